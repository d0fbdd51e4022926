/**
 * An error whose message may be shown to the user as is. Anything that is not a UserError becomes a generic
 * 500 without details, so a stack trace or an internal value never reaches a browser.
 */
export class UserError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Per-field messages for forms and the JSON API: field name -> message. */
    readonly fields?: Record<string, string>,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

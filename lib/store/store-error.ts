/** A store problem an operator must act on. Its message says what and where; the data is never reset silently. */
export class StoreError extends Error {
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
    this.name = 'StoreError';
  }
}

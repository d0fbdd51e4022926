/** Codes a client may see in a signaling error response (`{response:true,id,ok:false,error:{code,message}}`). */
export type SignalErrorCode =
  | 'bad_request'
  | 'unknown_method'
  | 'not_found'
  | 'not_joined'
  | 'not_admitted'
  | 'unavailable'
  | 'rate_limited'
  | 'forbidden'
  | 'internal';

/**
 * An error whose code and message are safe to send to the client as is. Anything else becomes `internal` with a
 * generic message, so mediasoup internals (ids, stack traces) never reach a browser.
 */
export class SignalError extends Error {
  constructor(
    readonly code: SignalErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SignalError';
  }
}

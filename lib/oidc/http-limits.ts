/**
 * fetch for talking to identity providers with a hard deadline and a cap on the answer's size: a slow or hostile
 * provider must not hold a resident's return to the call, nor fill our memory with a giant userinfo answer.
 */

/** Thrown when a provider's answer is bigger than allowed; the flow reports 'too_large'. */
export class ResponseTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`response larger than ${limit} bytes refused`);
    this.name = 'ResponseTooLargeError';
  }
}

/** Thrown when a provider does not answer in time; the flow reports 'provider_error'. */
export class ProviderTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`provider did not answer within ${timeoutMs} ms`);
    this.name = 'ProviderTimeoutError';
  }
}

export interface LimitedFetchOptions {
  timeoutMs: number;
  maxBytes: number;
}

type FetchInit = {
  method?: string;
  headers?: Record<string, string> | Headers;
  body?: unknown;
  redirect?: 'manual' | 'follow' | 'error';
  signal?: AbortSignal | null;
};

const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);

export function limitedFetch(limits: LimitedFetchOptions): (url: string, init: FetchInit) => Promise<Response> {
  return async (url, init) => {
    const deadline = AbortSignal.timeout(limits.timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
    try {
      const res = await fetch(url, { ...(init as RequestInit), redirect: 'manual', signal });
      const declared = Number(res.headers.get('content-length') ?? '0');
      if (declared > limits.maxBytes) {
        await res.body?.cancel().catch(() => undefined);
        throw new ResponseTooLargeError(limits.maxBytes);
      }
      if (!res.body || NULL_BODY_STATUS.has(res.status)) {
        return new Response(null, { status: res.status, statusText: res.statusText, headers: res.headers });
      }
      const reader = res.body.getReader();
      const chunks: Uint8Array[] = [];
      let size = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > limits.maxBytes) {
          await reader.cancel().catch(() => undefined);
          throw new ResponseTooLargeError(limits.maxBytes);
        }
        chunks.push(value);
      }
      // The body was decoded by fetch; the length and encoding headers no longer describe it.
      const headers = new Headers(res.headers);
      headers.delete('content-encoding');
      headers.delete('content-length');
      return new Response(Buffer.concat(chunks), { status: res.status, statusText: res.statusText, headers });
    } catch (e) {
      if (deadline.aborted) throw new ProviderTimeoutError(limits.timeoutMs);
      throw e;
    }
  };
}

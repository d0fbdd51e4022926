import type { SendFailure } from '../outbox/worker';
import type { SmsSender } from './outbox';
import { renderBody, type GatewayConfig } from './gateway-config';

/**
 * Classifies a gateway's answer. 2xx: accepted. 408, 425, 429 and 5xx: the gateway is busy or down, retried.
 * 401/403: the credential is wrong or expired — retried, because an administrator can fix it while the SMS waits.
 * Any other 4xx: this request will not be accepted, failed at once. 3xx: no redirects are followed (the credential
 * would travel along); retried, as a configuration to fix.
 */
export function classifyStatus(status: number): SendFailure | undefined {
  if (status >= 200 && status < 300) return undefined;
  const code = `EHTTP:${status}`;
  if (status >= 400 && status < 500 && ![401, 403, 408, 425, 429].includes(status)) return { code, permanent: true };
  return { code, permanent: false };
}

/** A code for a failed request: never the error's text (it can hold the URL). */
export function classifyRequestError(e: unknown): SendFailure {
  const err = e as { name?: unknown; code?: unknown; cause?: { code?: unknown; name?: unknown } };
  if (err?.name === 'TimeoutError' || err?.cause?.name === 'TimeoutError') return { code: 'ETIMEDOUT', permanent: false };
  const code = typeof err?.cause?.code === 'string' ? err.cause.code : typeof err?.code === 'string' ? err.code : 'EREQUEST';
  return { code: /^[A-Z0-9_]{2,40}$/.test(code) ? code : 'EREQUEST', permanent: false };
}

/**
 * The HTTP client of one gateway: one POST per SMS with the rendered body and the credential in its header, a
 * timeout, no redirects, the answer's body drained and never read into a message or log.
 */
export function createGatewayClient(config: GatewayConfig, credential: () => string | undefined): SmsSender {
  return {
    async send(sms) {
      const secret = credential();
      const headers: Record<string, string> = { 'content-type': config.contentType, accept: 'application/json' };
      if (secret) headers[config.authHeader.toLowerCase()] = `${config.authPrefix}${secret}`;
      let res: Response;
      try {
        res = await fetch(config.url, {
          method: 'POST',
          headers,
          body: renderBody(config, sms),
          redirect: 'manual',
          signal: AbortSignal.timeout(config.timeoutMs),
        });
      } catch (e) {
        return classifyRequestError(e);
      }
      await res.body?.cancel().catch(() => undefined);
      return classifyStatus(res.status);
    },
  };
}

import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) ids, as the Logboek Dataverwerkingen standard (Logius) uses
 * them: a trace id of 16 bytes and a span (operation) id of 8 bytes, lower-case hex, from the CSPRNG, never all zero.
 */
export const TRACE_ID = /^[0-9a-f]{32}$/;
export const SPAN_ID = /^[0-9a-f]{16}$/;

function nonZeroHex(bytes: number): string {
  for (;;) {
    const hex = randomBytes(bytes).toString('hex');
    if (!/^0+$/.test(hex)) return hex;
  }
}

/** A new trace id: 32 lower-case hex characters (16 random bytes). */
export function newTraceId(): string {
  return nonZeroHex(16);
}

/** A new span id: 16 lower-case hex characters (8 random bytes). */
export function newSpanId(): string {
  return nonZeroHex(8);
}

/** One processing in a trace: what a `traceparent` header carries. */
export interface SpanContext {
  traceId: string;
  spanId: string;
}

/** The `traceparent` header value for a span (version 00, flag "sampled": the processing is always logged). */
export function traceparent(span: SpanContext): string {
  if (!TRACE_ID.test(span.traceId) || !SPAN_ID.test(span.spanId)) throw new Error('traceparent needs a 32-hex trace id and a 16-hex span id');
  return `00-${span.traceId}-${span.spanId}-01`;
}

const TRACEPARENT_00 = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const TRACEPARENT_FUTURE = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * The caller's span from an incoming `traceparent` header (W3C Trace Context Level 1, section 3.2 and 4.3), or undefined
 * when there is none or it is not valid — then the processing starts a trace of its own, as the recommendation says a
 * receiver must (an invalid header is no error for the request). Rules: lower-case hex only; version 00 is exactly
 * `00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>`; version ff is invalid; a higher version is read by its first
 * four fields when what follows them starts with "-"; an all-zero trace or parent id is invalid. A header given twice
 * (an array, or values joined by ",") is ambiguous and ignored.
 */
export function parseTraceparent(header: unknown): SpanContext | undefined {
  if (typeof header !== 'string' || header.length > 512) return undefined;
  const v = header.trim();
  let m = TRACEPARENT_00.exec(v);
  if (!m) {
    const f = TRACEPARENT_FUTURE.exec(v);
    if (!f || f[1] === '00' || f[1] === 'ff') return undefined;
    m = [f[0], f[2], f[3], f[4]] as unknown as RegExpExecArray;
  }
  const [, traceId, spanId] = m;
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId };
}

/**
 * The ids of a processing that an incoming `traceparent` may continue: the caller's trace with a new span whose parent
 * is the caller's span, or a new trace when there is no valid header.
 */
export function spanFor(incoming: unknown): SpanContext & { parentSpanId?: string } {
  const caller = parseTraceparent(incoming);
  return caller ? { traceId: caller.traceId, spanId: newSpanId(), parentSpanId: caller.spanId } : { traceId: newTraceId(), spanId: newSpanId() };
}

/** A child span of the same trace (a call made on behalf of a processing). */
export function childSpan(parent: Pick<SpanContext, 'traceId'>): SpanContext {
  return { traceId: parent.traceId, spanId: newSpanId() };
}

const active = new AsyncLocalStorage<SpanContext>();

/**
 * Runs fn with `span` as the processing on whose behalf outgoing calls are made (AsyncLocalStorage), so a fetch wrapper
 * deep inside a library (openid-client's customFetch) can send its `traceparent` without the span being threaded
 * through every call. Without a span fn simply runs.
 */
export function withSpan<T>(span: SpanContext | undefined, fn: () => T): T {
  return span ? active.run(span, fn) : fn();
}

/** The span of the processing in progress (see withSpan), if any. */
export function currentSpan(): SpanContext | undefined {
  return active.getStore();
}

/**
 * Wraps a fetch so each call carries `traceparent` with the current processing's trace and span (withSpan): the
 * provider's own log can then name exactly this record as the calling operation (Logboek: foreign_operation). Calls
 * made outside a processing go out unchanged.
 */
export function tracedFetch<I extends { headers?: unknown }>(fetchImpl: (url: string, init: I) => Promise<Response>): (url: string, init: I) => Promise<Response> {
  return (url, init) => {
    const span = currentSpan();
    if (!span) return fetchImpl(url, init);
    const headers = new Headers((init?.headers ?? undefined) as ConstructorParameters<typeof Headers>[0]);
    headers.set('traceparent', traceparent(span));
    return fetchImpl(url, { ...init, headers });
  };
}

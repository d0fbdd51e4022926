import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the stand-in received it. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * How the stand-in answers the next requests: a status (with an optional delay), or a dropped connection. Answers
 * are taken from the queue in order; when it is empty, `fallback` answers.
 */
export type Answer = { status: number; delayMs?: number; location?: string } | { drop: true };

export interface SmsGatewayStandIn {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Answers for the next requests, in order. */
  answer(...answers: Answer[]): void;
  /** The answer when no queued one is left (default 202). */
  fallback: Answer;
  /** Resolves when `n` requests have come (bounded by timeoutMs). */
  waitFor(n: number, timeoutMs?: number): Promise<RecordedRequest[]>;
  close(): Promise<void>;
}

/**
 * An HTTP SMS gateway stand-in on 127.0.0.1 (ephemeral port) that records every request and answers as the test
 * says: accepted, 4xx, 5xx, slow, or a dropped connection. "Down" is a closed stand-in.
 */
export async function startSmsGateway(): Promise<SmsGatewayStandIn> {
  const requests: RecordedRequest[] = [];
  const queue: Answer[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      for (const w of waiters.splice(0)) {
        if (requests.length >= w.n) w.resolve();
        else waiters.push(w);
      }
      const a = queue.shift() ?? standIn.fallback;
      if ('drop' in a) {
        req.socket.destroy();
        return;
      }
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(a.status, { 'content-type': 'application/json', ...(a.location ? { location: a.location } : {}) });
        res.end(JSON.stringify(a.status < 300 ? { id: `msg-${requests.length}` } : { error: 'refused', echo: 'the number and text a gateway may quote' }));
      };
      if (a.delayMs) {
        const t = setTimeout(() => {
          timers.delete(t);
          send();
        }, a.delayMs);
        timers.add(t);
      } else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const standIn: SmsGatewayStandIn = {
    url: `http://127.0.0.1:${port}/messages`,
    port,
    requests,
    fallback: { status: 202 },
    answer(...answers) {
      queue.push(...answers);
    },
    waitFor(n, timeoutMs = 10_000) {
      if (requests.length >= n) return Promise.resolve(requests.slice());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`SMS gateway stand-in: ${requests.length} of ${n} requests within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve(requests.slice());
          },
        });
      });
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return standIn;
}

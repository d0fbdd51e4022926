/**
 * What the identification node tests (OIDC and ID Contact) share: capturing everything the process prints, polling
 * for a condition, WebSocket clients with cookies, a resident with a real call session, appointments held now.
 */
import { createHash } from 'node:crypto';
import WebSocket from 'ws';
import { appointmentStoreOf, linkServiceOf } from '../../lib/call/deps';
import type { Services } from '../../lib/services';
import { Client, ownLoopbackAddress } from './http-client';

/** Copies everything written to stdout/stderr into `into` (still printed); returns the restore function. */
export function captureProcessOutput(into: string[]): () => void {
  const restores: (() => void)[] = [];
  for (const stream of [process.stdout, process.stderr] as const) {
    const original = stream.write.bind(stream);
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      into.push(String(chunk));
      return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
    restores.push(() => (stream.write = original as typeof stream.write));
  }
  return () => restores.forEach((r) => r());
}

/** Polls `fn` every 25 ms until it gives something truthy; throws after `ms`. */
export async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A WebSocket to our /ws with a cookie and our own origin; kept in `sockets` for the test's after(). */
export function openWs(url: string, cookie: string, origin: string, sockets: WebSocket[]): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { cookie, origin } });
    sockets.push(ws);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/**
 * A resident in a call: a client with the cookie of a real call session of the appointment, and optionally the call
 * page's signaling connection whose pushes go to `onPush`.
 */
export async function residentClient(services: Services, base: string, appointmentId: string, push?: { onPush(m: Record<string, unknown>): void; sockets: WebSocket[] }): Promise<Client> {
  const sessionId = await linkServiceOf(services).createCallSession({ appointmentId, role: 'resident' });
  // Every resident from its own address, as in life: tests do not share one rate-limit budget (60 a minute).
  const c = new Client(base, base, { localAddress: ownLoopbackAddress() });
  c.cookies.set('idv_call', sessionId);
  if (push) {
    const ws = await openWs(`${base.replace('http', 'ws')}/ws`, `idv_call=${sessionId}`, base, push.sockets);
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as Record<string, unknown>;
      if (m.notification) push.onPush(m);
    });
  }
  return c;
}

/** A booked appointment of `agent` starting `offsetMin` from now (30 minutes), with a resident link open for an hour. */
export async function appointmentNow(services: Services, agent: string, offsetMin: number, key: string, topic = 'Paspoort aanvragen'): Promise<string> {
  const now = Date.now();
  const { appointment } = await appointmentStoreOf(services).create(
    {
      startUtc: new Date(now + offsetMin * 60_000).toISOString(),
      endUtc: new Date(now + (offsetMin + 30) * 60_000).toISOString(),
      topic,
      channel: 'website',
      bookedBy: null,
      resident: { name: 'Ongeverifieerde Naam', email: `${key}@example.test`, phone: null, remarks: null },
      cancelTokenHash: createHash('sha256').update(key).digest('hex'),
      idempotencyKey: key,
      createdAt: new Date(now).toISOString(),
    },
    { candidates: [agent], dayStartUtc: new Date(now - 86_400_000).toISOString(), dayEndUtc: new Date(now + 86_400_000).toISOString(), bufferMinutes: 0, idempotentSinceUtc: new Date(now).toISOString() },
  );
  await linkServiceOf(services).issue({ appointmentId: appointment.id, role: 'resident', validFrom: new Date(now - 3600_000).toISOString(), validUntil: new Date(now + 3600_000).toISOString() });
  return appointment.id;
}

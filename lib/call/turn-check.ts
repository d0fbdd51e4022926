import { probeTurn, type TurnProbeResult, type TurnSettings } from '../../media-server';

export interface TurnCheck {
  /** Operator errors that must stop the start (wrong secret, certificate not valid for the TURNS name). */
  fatal: string[];
  /** Worth a warning only: a TURN server that is down now may be up later; direct calls work without it. */
  warnings: string[];
  results: TurnProbeResult[];
}

/**
 * Tries every configured TURN URL with credentials made from our secret (media-server/turn-probe.ts). A server that
 * answers and refuses them means the secret differs from coturn's `static-auth-secret`: calls behind strict
 * firewalls would fail silently, so that is fatal at start. Messages never contain the secret.
 */
export async function checkTurn(turn: TurnSettings, o: { timeoutMs?: number; ca?: string | Buffer } = {}): Promise<TurnCheck> {
  const results = await Promise.all(turn.urls.map((url) => probeTurn({ url, secret: turn.secret, timeoutMs: o.timeoutMs, ca: o.ca })));
  const out: TurnCheck = { fatal: [], warnings: [], results };
  for (const r of results) {
    if (r.outcome === 'rejected') {
      out.fatal.push(`${r.url}: the TURN server refuses credentials made with IDV_TURN_SECRET; it must equal static-auth-secret in coturn's turnserver.conf (and both clocks must be right)`);
    } else if (r.outcome === 'tls') {
      out.fatal.push(`${r.url}: ${r.detail}; browsers will refuse this TURNS server too (the certificate must be valid for this name)`);
    } else if (r.outcome !== 'ok') {
      out.warnings.push(`${r.url}: TURN server not usable now (${r.detail}); calls that cannot go direct will fail until it is`);
    }
  }
  return out;
}

/**
 * Auth round trip, our part: the time of finish() — from the browser's callback to mapped, validated attributes
 * (token exchange with PKCE, ID token signature via JWKS, nonce/iss/acr checks, userinfo, claim mapping) — against
 * the demo OP on loopback, per client authentication method. The OP's own login pages are not timed.
 * Run: npx tsc -p tsconfig.json && node dist/scripts/bench/auth.js [runs]
 */
import { createOidcFlows } from '../../lib/auth/oidc';
import { pendingFlowsOf } from '../../lib/identification/pending-store';
import { createSqliteStore } from '../../lib/store/sqlite';
import { loginWithHttp, startTestOp, testMethod } from '../../test/support/oidc-provider';

function pct(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 10);
  const redirectUri = 'http://127.0.0.1:9/auth/callback';
  const op = await startTestOp({ redirectUri });
  try {
    for (const auth of ['secret', 'jwt'] as const) {
      // Pending requests in a store, as in the runtime (an SQLite database in memory here).
      const flows = createOidcFlows({ redirectUri, httpTimeoutMs: 5000, pending: pendingFlowsOf(createSqliteStore(':memory:').pendingIdentifications, 'oidc') });
      const method = testMethod(op, auth);
      const times: number[] = [];
      // One warm-up: discovery and JWKS are cached per method afterwards, as in a running instance.
      for (let i = 0; i <= runs; i++) {
        const { authorizationUrl } = await flows.start({ method, appointmentId: 'bench', callSessionId: 's', purpose: 'bench', requestId: `r${i}` });
        const callback = await loginWithHttp(authorizationUrl, { redirectUri });
        const t0 = process.hrtime.bigint();
        const res = await flows.finish({ currentUrl: callback, callSessionId: 's' });
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        if (!res.ok) throw new Error(`finish failed: ${res.reason}`);
        if (i > 0) times.push(ms);
      }
      times.sort((a, b) => a - b);
      const label = auth === 'secret' ? 'client_secret_basic' : 'private_key_jwt';
      console.log(`auth finish() ${label}: runs=${runs} p50=${pct(times, 50).toFixed(1)} ms p95=${pct(times, 95).toFixed(1)} ms max=${times[times.length - 1]!.toFixed(1)} ms`);
    }
  } finally {
    await op.close();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : 'bench failed');
  process.exitCode = 1;
});

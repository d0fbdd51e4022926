/**
 * Where started sign-ins wait for their callback: one entry per attempt, keyed by the SHA-256 of the OIDC state (the
 * state itself is never kept), with the hash of the browser secret it is bound to, a small JSON payload (references,
 * the nonce and the PKCE verifier; never a credential or an attribute value) and its expiry. Single use: `take`
 * removes the entry and leaves a tombstone until it would have expired, so a second use reads 'replayed', not
 * 'expired'.
 *
 * The shape is the store's port for pending identifications (several instances keep them in PostgreSQL, one atomic
 * `DELETE … RETURNING` per take); `memoryPendingFlows()` is the one-process implementation.
 */

export interface PendingFlow {
  /** SHA-256 hex of the OIDC state. */
  keyHash: string;
  /** SHA-256 hex of the browser secret the callback must come with. */
  sessionHash: string;
  /** JSON-safe and small. */
  payload: Record<string, unknown>;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms; after it the attempt cannot be taken. */
  expiresAt: number;
}

export type PendingTake =
  | { status: 'taken'; attempt: PendingFlow }
  | { status: 'replayed' }
  | { status: 'unknown' }
  | { status: 'expired'; attempt: PendingFlow };

export interface PendingFlowStore {
  put(attempt: PendingFlow): Promise<void>;
  take(keyHash: string, nowMs: number): Promise<PendingTake>;
  countOpen(nowMs: number): Promise<number>;
  purgeExpired(nowMs: number): Promise<number>;
}

/** Pending attempts in this process's memory (lost on restart: the person starts the sign-in again). */
export function memoryPendingFlows(): PendingFlowStore {
  const open = new Map<string, PendingFlow>();
  const taken = new Map<string, number>();
  return {
    async put(a) {
      if (open.has(a.keyHash) || taken.has(a.keyHash)) throw new Error('pending attempt key exists');
      open.set(a.keyHash, { ...a, payload: JSON.parse(JSON.stringify(a.payload)) as Record<string, unknown> });
    },
    async take(keyHash, nowMs) {
      const a = open.get(keyHash);
      if (a) {
        open.delete(keyHash);
        taken.set(keyHash, a.expiresAt);
        return a.expiresAt > nowMs ? { status: 'taken', attempt: a } : { status: 'expired', attempt: a };
      }
      return taken.has(keyHash) ? { status: 'replayed' } : { status: 'unknown' };
    },
    async countOpen(nowMs) {
      let n = 0;
      for (const a of open.values()) if (a.expiresAt > nowMs) n++;
      return n;
    },
    async purgeExpired(nowMs) {
      let n = 0;
      for (const [k, a] of open) if (a.expiresAt <= nowMs && open.delete(k)) n++;
      for (const [k, until] of taken) if (until <= nowMs && taken.delete(k)) n++;
      return n;
    },
  };
}

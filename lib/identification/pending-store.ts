/**
 * Pending identification state: what a started identification needs when its answer comes back (an OIDC callback, an
 * ID Contact attr_url or comm_url), kept in the store so the answer may land on any instance (../shared/DESIGN.md,
 * "Several instances"). One row per started attempt, keyed by the SHA-256 of the secret the answer carries (the OIDC
 * state, the attr_url token); the secret itself is never stored.
 *
 * What goes in `payload`: references and protocol secrets of the attempt (appointment and request id, purpose, method
 * id, the OIDC nonce and PKCE verifier, the method's configuration fingerprint). Never an attribute value, never a
 * credential of a method (those stay in the flows; the instance that finishes looks the method up by id). The payload
 * is JSON the engine stores as text; it is deleted when the attempt is taken.
 *
 * Single use across instances: `take` deletes the row and returns it in one statement (`DELETE … RETURNING`), so of two
 * callbacks with the same state exactly one gets it. A taken key leaves a tombstone until its attempt would have
 * expired, so a second use answers 'replayed' rather than 'expired'.
 */

import type { PendingFlow, PendingFlowStore } from '../oidc/pending';

/**
 * Kinds of row, each with its own key space: a resident's OIDC state; an ID Contact attempt by its attr_url and by its
 * comm_url; the outcome of an ID Contact attempt (a reason code, keyed by the comm_url's hash) for the resident's
 * return; a staff member's OIDC sign-in state (lib/staff/sso.ts).
 */
export type PendingKind = 'oidc' | 'idcontact-attr' | 'idcontact-return' | 'idcontact-outcome' | 'staff-oidc';

/** Single-use marks without a pending row: an ID Contact attempt used up, an auth_result handed over directly. */
/** Single-use marks: ID Contact tokens, and the `jti` of staff back-channel logout tokens (lib/staff/backchannel-logout.ts). */
export type OnceKind = 'idcontact-used' | 'idcontact-direct' | 'staff-logout';

/**
 * A started attempt: the relying party's pending entry (key and session hashes, payload of at most 4000 characters as
 * JSON, createdAt/expiresAt in epoch ms) and its kind.
 */
export interface PendingAttempt extends PendingFlow {
  kind: PendingKind;
}

export type TakeResult =
  | { status: 'taken'; attempt: PendingAttempt }
  /** Taken before (by this or another instance). */
  | { status: 'replayed' }
  /** Never stored, or expired and swept. */
  | { status: 'unknown' }
  /** Stored, but its time ran out before it was taken (it is gone now). */
  | { status: 'expired'; attempt: PendingAttempt };

export interface PendingIdentificationStore {
  /** Stores a new attempt. Throws when the key exists (a 256-bit key colliding means a bug, not chance). */
  put(attempt: PendingAttempt): Promise<void>;
  /** Atomically removes the attempt and returns it (single use), leaving a tombstone until it would have expired. */
  take(kind: PendingKind, keyHash: string, nowMs: number): Promise<TakeResult>;
  /** The attempt without taking it (a resident's return page asking how it went). */
  peek(kind: PendingKind, keyHash: string, nowMs: number): Promise<PendingAttempt | undefined>;
  /** Rows still open (not taken, not expired), of the given kinds (default: all): for monitoring and limits. */
  countOpen(nowMs: number, kinds?: readonly PendingKind[]): Promise<number>;
  /**
   * Marks `keyHash` used until `expiresAt` (epoch ms): true the first time, false when it was marked before and the
   * mark has not expired — one atomic statement, so of two instances marking at once exactly one gets true.
   */
  once(kind: OnceKind, keyHash: string, expiresAt: number, nowMs: number): Promise<boolean>;
  /** Removes expired attempts and tombstones; returns how many rows went. */
  purgeExpired(nowMs: number): Promise<number>;
}

export const MAX_PENDING_PAYLOAD = 4000;

/** Checks an attempt before any engine stores it; throws on what would be a programming error. */
export function checkAttempt(a: PendingAttempt): string {
  if (!/^[0-9a-f]{64}$/.test(a.keyHash) || !/^[0-9a-f]{64}$/.test(a.sessionHash)) throw new Error('pending attempt keys are SHA-256 hex');
  if (!(a.expiresAt > a.createdAt)) throw new Error('a pending attempt must expire after it was made');
  const json = JSON.stringify(a.payload ?? {});
  if (json.length > MAX_PENDING_PAYLOAD) throw new Error('pending attempt payload is limited to 4000 characters of JSON');
  return json;
}

/**
 * The relying party's pending store (lib/oidc/pending.ts) on the store's pending identifications, one kind of row:
 * started sign-ins and identifications then wait in SQLite or PostgreSQL, so the callback may land on any instance
 * (and survives a restart).
 */
export function pendingFlowsOf(store: PendingIdentificationStore, kind: 'oidc' | 'staff-oidc'): PendingFlowStore {
  return {
    put: (a) => store.put({ ...a, kind }),
    async take(keyHash, nowMs) {
      const r = await store.take(kind, keyHash, nowMs);
      if (r.status === 'taken' || r.status === 'expired') {
        const { kind: _kind, ...attempt } = r.attempt;
        return { status: r.status, attempt };
      }
      return r;
    },
    countOpen: (nowMs) => store.countOpen(nowMs, [kind]),
    purgeExpired: (nowMs) => store.purgeExpired(nowMs),
  };
}

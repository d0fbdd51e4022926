import type { Migration } from '../migration';

/**
 * Pending identifications in the store (lib/identification/pending-store.ts), so an identification's answer finds
 * its attempt after a restart too; the PostgreSQL twin (lib/store/postgres/migrations/008-coordination.ts) shares
 * them between instances and adds the rate-limit counters.
 *
 * - identification_pending: started identifications by the SHA-256 of their secret (OIDC state, ID Contact tokens);
 *   references and protocol secrets only, never an attribute value; deleted when taken (single use).
 * - identification_taken: tombstones of taken keys until they would have expired ('replayed' rather than 'expired').
 */
export const migration: Migration = {
  id: 8,
  name: 'coordination',
  up: `
CREATE TABLE identification_pending (
  kind         TEXT NOT NULL CHECK (kind IN ('oidc', 'idcontact-attr', 'idcontact-return', 'idcontact-outcome', 'staff-oidc')),
  key_hash     TEXT NOT NULL CHECK (length(key_hash) = 64),
  session_hash TEXT NOT NULL CHECK (length(session_hash) = 64),
  payload      TEXT NOT NULL CHECK (length(payload) <= 4000),
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,
  PRIMARY KEY (kind, key_hash)
);
CREATE INDEX identification_pending_expires ON identification_pending (expires_at);

CREATE TABLE identification_taken (
  kind       TEXT NOT NULL,
  key_hash   TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (kind, key_hash)
);
CREATE INDEX identification_taken_expires ON identification_taken (expires_at);
`,
};

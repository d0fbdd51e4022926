import type { Migration } from '../../migration';

/**
 * Coordination between instances through the database (../shared/DESIGN.md, "Several instances"). Same tables as
 * lib/store/migrations/008-coordination.ts, plus the shared rate-limit counters (one process on SQLite counts in
 * memory):
 *
 * - identification_pending: started identifications (OIDC state, ID Contact attr_url/comm_url) by the SHA-256 of
 *   their secret, so the answer may land on any instance; taken once with DELETE … RETURNING. References and
 *   protocol secrets only (lib/identification/pending-store.ts): never an attribute value.
 * - identification_taken: tombstones of taken keys until they would have expired ('replayed' rather than 'expired').
 * - rate_limits: rate-limiter-flexible's RateLimiterPostgres table (key, points, expire in epoch ms); keys are HMACs
 *   of client networks or staff usernames, never addresses.
 */
export const migration: Migration = {
  id: 8,
  name: 'coordination',
  up: `
CREATE TABLE identification_pending (
  kind         text NOT NULL CHECK (kind IN ('oidc', 'idcontact-attr', 'idcontact-return', 'idcontact-outcome', 'staff-oidc')),
  key_hash     text NOT NULL CHECK (length(key_hash) = 64),
  session_hash text NOT NULL CHECK (length(session_hash) = 64),
  payload      text NOT NULL CHECK (length(payload) <= 4000),
  created_at   bigint NOT NULL,
  expires_at   bigint NOT NULL,
  PRIMARY KEY (kind, key_hash)
);
CREATE INDEX identification_pending_expires ON identification_pending (expires_at);

CREATE TABLE identification_taken (
  kind       text NOT NULL,
  key_hash   text NOT NULL,
  expires_at bigint NOT NULL,
  PRIMARY KEY (kind, key_hash)
);
CREATE INDEX identification_taken_expires ON identification_taken (expires_at);

CREATE TABLE rate_limits (
  key    varchar(255) PRIMARY KEY,
  points integer NOT NULL DEFAULT 0,
  expire bigint
);
`,
};

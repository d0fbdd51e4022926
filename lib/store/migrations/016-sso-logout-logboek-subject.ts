import type { Migration } from '../migration';

/**
 * OpenID Connect Back-Channel Logout 1.0 for staff sign-ins (lib/staff/backchannel-logout.ts): a logout token may name
 * the provider's session (`sid`) instead of, or beside, the person (`sub`). `staff_sessions.sso_sid` holds the SHA-256
 * of the issuer and that sid for sessions (and editor tokens) opened through an SSO sign-in, so such a token finds the
 * person whose sessions end. NULL for password sign-ins. Used logout tokens (`jti`) are marked in
 * `identification_taken` (migration 008), which needs no change.
 *
 * Logboek Dataverwerkingen `dpl.core.data_subject_id` (lib/trace/data-subject.ts): `processing_log.data_subject_id`,
 * the keyed HMAC-SHA256 of the verified BSN (never the BSN), on the records from the verification on; and
 * `contact_registrations.data_subject_id`, the same pseudonym kept for the registration's own record.
 */
export const migration: Migration = {
  id: 16,
  name: 'sso-logout-logboek-subject',
  up: `
    ALTER TABLE staff_sessions ADD COLUMN sso_sid TEXT CHECK (sso_sid IS NULL OR length(sso_sid) = 64);
    CREATE INDEX staff_sessions_sso_sid ON staff_sessions (sso_sid) WHERE sso_sid IS NOT NULL;
    ALTER TABLE processing_log ADD COLUMN data_subject_id TEXT CHECK (data_subject_id IS NULL OR length(data_subject_id) = 64);
    ALTER TABLE contact_registrations ADD COLUMN data_subject_id TEXT CHECK (data_subject_id IS NULL OR length(data_subject_id) = 64);
  `,
};

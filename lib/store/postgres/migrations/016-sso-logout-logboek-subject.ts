import type { Migration } from '../../migration';

/**
 * PostgreSQL twin of lib/store/migrations/016-sso-logout-logboek-subject.ts (OpenID Connect Back-Channel Logout): the hashed
 * provider session id of SSO sessions, so a logout token naming only `sid` finds the person on any instance; and the
 * pseudonymised data subject of processing-log records (Logboek `dpl.core.data_subject_id`).
 */
export const migration: Migration = {
  id: 16,
  name: 'sso-logout-logboek-subject',
  up: `
    ALTER TABLE staff_sessions ADD COLUMN sso_sid text CHECK (sso_sid IS NULL OR length(sso_sid) = 64);
    CREATE INDEX staff_sessions_sso_sid ON staff_sessions (sso_sid) WHERE sso_sid IS NOT NULL;
    ALTER TABLE processing_log ADD COLUMN data_subject_id text CHECK (data_subject_id IS NULL OR length(data_subject_id) = 64);
    ALTER TABLE contact_registrations ADD COLUMN data_subject_id text CHECK (data_subject_id IS NULL OR length(data_subject_id) = 64);
  `,
};

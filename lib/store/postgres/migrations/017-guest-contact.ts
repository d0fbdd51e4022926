import type { Migration } from '../../migration';

/** PostgreSQL twin of lib/store/migrations/017-guest-contact.ts: the guest's address and mail language. */
export const migration: Migration = {
  id: 17,
  name: 'guest-contact',
  up: `
ALTER TABLE call_guests ADD COLUMN email text;
ALTER TABLE call_guests ADD COLUMN lang text CHECK (lang IS NULL OR lang IN ('nl', 'en'));
`,
};

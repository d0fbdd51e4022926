import type { Migration } from '../migration';

/**
 * The third participant's address (issue 13.4, KCC invitations): kept with the guest row so a cancellation or a move
 * of the appointment can tell the guest too (lib/call/guest-mails.ts, planned by the hand-off of that event). Before
 * this the address lived only in the invitation mail. Blanked when the guest is removed and by retention with the
 * resident's details; `lang` is the language the invitation was written in, so later mails follow it.
 *
 * PostgreSQL twin: lib/store/postgres/migrations/017-guest-contact.ts (the same statements).
 */
export const migration: Migration = {
  id: 17,
  name: 'guest-contact',
  up: `
ALTER TABLE call_guests ADD COLUMN email TEXT;
ALTER TABLE call_guests ADD COLUMN lang TEXT CHECK (lang IS NULL OR lang IN ('nl', 'en'));
`,
};

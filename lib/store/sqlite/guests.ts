import type { Database } from 'better-sqlite3';
import type { GuestContact, GuestStore } from '../../call/guest-store';
import { toGuest, type GuestRow } from '../rows';
import { sqliteLinkWrites } from './links';
import { sqliteOutboxWrites } from './outbox';

/** Guests on SQLite (migration 009); each write one immediate transaction. */
export function createSqliteGuestStore(db: Database): GuestStore {
  const links = sqliteLinkWrites(db);
  const outbox = sqliteOutboxWrites(db);
  const get = db.prepare<[string], GuestRow>('SELECT * FROM call_guests WHERE appointment_id = ?');
  const upsert = db.prepare(
    `INSERT INTO call_guests (appointment_id, kind, invited_by, invited_at, removed_at, email, lang)
     VALUES (@appointmentId, @kind, @invitedBy, @invitedAt, NULL, @email, @lang)
     ON CONFLICT (appointment_id) DO UPDATE SET kind = excluded.kind, invited_by = excluded.invited_by, invited_at = excluded.invited_at,
       removed_at = NULL, email = excluded.email, lang = excluded.lang`,
  );
  const contact = db.prepare<[string], GuestContact>(
    `SELECT email, lang FROM call_guests WHERE appointment_id = ? AND removed_at IS NULL AND email IS NOT NULL AND email <> ''`,
  );
  const markRemoved = db.prepare(`UPDATE call_guests SET removed_at = ?, email = NULL WHERE appointment_id = ? AND removed_at IS NULL`);
  const dropLink = db.prepare(`DELETE FROM access_links WHERE appointment_id = ? AND role = 'guest'`);
  const dropSessions = db.prepare(`DELETE FROM call_sessions WHERE appointment_id = ? AND role = 'guest'`);
  const discardMail = db.prepare(`DELETE FROM mail_outbox WHERE appointment_id = ? AND kind = 'guest-invitation' AND status IN ('pending', 'failed')`);
  type Invite = Parameters<GuestStore['invite']>;
  const invite = db.transaction((g: Invite[0], c: Invite[1], link: Invite[2], mail: Invite[3]) => {
    upsert.run({ ...g, email: c.email, lang: c.lang });
    // A new invitation replaces the earlier guest: their sessions end, an unsent invitation is not sent.
    dropSessions.run(g.appointmentId);
    discardMail.run(g.appointmentId);
    links.replaceLink(link);
    outbox.insert(mail);
  });
  const remove = db.transaction((appointmentId: string, atIso: string): boolean => {
    if (markRemoved.run(atIso, appointmentId).changes === 0) return false;
    dropLink.run(appointmentId);
    dropSessions.run(appointmentId);
    discardMail.run(appointmentId);
    return true;
  });
  return {
    async get(appointmentId) {
      return toGuest(get.get(appointmentId));
    },
    async invite(guest, c, link, mail) {
      invite.immediate(guest, c, link, mail);
    },
    async contact(appointmentId) {
      const r = contact.get(appointmentId);
      return r ? { email: r.email, lang: r.lang === 'en' ? 'en' : 'nl' } : undefined;
    },
    async remove(appointmentId, atIso) {
      return remove.immediate(appointmentId, atIso);
    },
  };
}

import type { Database } from 'better-sqlite3';
import type { GuestStore } from '../../call/guest-store';
import { toGuest, type GuestRow } from '../rows';
import { sqliteLinkWrites } from './links';
import { sqliteOutboxWrites } from './outbox';

/** Guests on SQLite (migration 009); each write one immediate transaction. */
export function createSqliteGuestStore(db: Database): GuestStore {
  const links = sqliteLinkWrites(db);
  const outbox = sqliteOutboxWrites(db);
  const get = db.prepare<[string], GuestRow>('SELECT * FROM call_guests WHERE appointment_id = ?');
  const upsert = db.prepare(
    `INSERT INTO call_guests (appointment_id, kind, invited_by, invited_at, removed_at) VALUES (@appointmentId, @kind, @invitedBy, @invitedAt, NULL)
     ON CONFLICT (appointment_id) DO UPDATE SET kind = excluded.kind, invited_by = excluded.invited_by, invited_at = excluded.invited_at, removed_at = NULL`,
  );
  const markRemoved = db.prepare(`UPDATE call_guests SET removed_at = ? WHERE appointment_id = ? AND removed_at IS NULL`);
  const dropLink = db.prepare(`DELETE FROM access_links WHERE appointment_id = ? AND role = 'guest'`);
  const dropSessions = db.prepare(`DELETE FROM call_sessions WHERE appointment_id = ? AND role = 'guest'`);
  const discardMail = db.prepare(`DELETE FROM mail_outbox WHERE appointment_id = ? AND kind = 'guest-invitation' AND status IN ('pending', 'failed')`);
  const invite = db.transaction((g: Parameters<GuestStore['invite']>[0], link: Parameters<GuestStore['invite']>[1], mail: Parameters<GuestStore['invite']>[2]) => {
    upsert.run(g);
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
    async invite(guest, link, mail) {
      invite.immediate(guest, link, mail);
    },
    async remove(appointmentId, atIso) {
      return remove.immediate(appointmentId, atIso);
    },
  };
}

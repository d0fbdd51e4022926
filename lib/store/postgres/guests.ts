import type { GuestStore } from '../../call/guest-store';
import { toGuest, type GuestRow } from '../rows';
import type { Pg } from './client';
import { linkWrites } from './links';
import { outboxWrites } from './outbox';

const DROP_SESSIONS = `DELETE FROM call_sessions WHERE appointment_id = $1 AND role = 'guest'`;
const DISCARD_MAIL = `DELETE FROM mail_outbox WHERE appointment_id = $1 AND kind = 'guest-invitation' AND status IN ('pending', 'failed')`;

/**
 * Guests on PostgreSQL (migration 009); each write one transaction. The guest row is written first, so two agents
 * inviting for the same appointment on two instances queue behind its row lock and the later one wins whole (its
 * link, its mail), as on SQLite's one writer.
 */
export function createPostgresGuestStore(pg: Pg): GuestStore {
  return {
    async get(appointmentId) {
      return toGuest((await pg.query<GuestRow>('SELECT * FROM call_guests WHERE appointment_id = $1', [appointmentId]))[0]);
    },
    async invite(g, c, link, mail) {
      await pg.tx(async (q) => {
        await q.run(
          `INSERT INTO call_guests (appointment_id, kind, invited_by, invited_at, removed_at, email, lang) VALUES ($1, $2, $3, $4, NULL, $5, $6)
           ON CONFLICT (appointment_id) DO UPDATE SET kind = excluded.kind, invited_by = excluded.invited_by, invited_at = excluded.invited_at,
             removed_at = NULL, email = excluded.email, lang = excluded.lang`,
          [g.appointmentId, g.kind, g.invitedBy, g.invitedAt, c.email, c.lang],
        );
        await q.run(DROP_SESSIONS, [g.appointmentId]);
        await q.run(DISCARD_MAIL, [g.appointmentId]);
        await linkWrites(q).replaceLink(link);
        await outboxWrites(q).insert(mail);
      });
    },
    async contact(appointmentId) {
      const r = (
        await pg.query<{ email: string; lang: string | null }>(
          `SELECT email, lang FROM call_guests WHERE appointment_id = $1 AND removed_at IS NULL AND email IS NOT NULL AND email <> ''`,
          [appointmentId],
        )
      )[0];
      return r ? { email: r.email, lang: r.lang === 'en' ? 'en' : 'nl' } : undefined;
    },
    async remove(appointmentId, atIso) {
      return pg.tx(async (q) => {
        if ((await q.run('UPDATE call_guests SET removed_at = $1, email = NULL WHERE appointment_id = $2 AND removed_at IS NULL', [atIso, appointmentId])) === 0) return false;
        await q.run(`DELETE FROM access_links WHERE appointment_id = $1 AND role = 'guest'`, [appointmentId]);
        await q.run(DROP_SESSIONS, [appointmentId]);
        await q.run(DISCARD_MAIL, [appointmentId]);
        return true;
      });
    },
  };
}

import { DateTime } from 'luxon';
import type { Appointment } from '../appointments/store';
import { escapeText, foldLine } from '../mail/ics';
import { headerSafe } from '../mail/sanitize';

/** Persistence of the agents' calendar feed tokens (hashes only; lib/store/sqlite/agent-feeds.ts). One per agent. */
export interface AgentFeedStore {
  /** Stores the hash of a new token for the agent, replacing (and so revoking) the previous one. */
  replace(username: string, tokenHash: string, nowIso: string): Promise<void>;
  /** Deletes the agent's feed; true when there was one. */
  revoke(username: string): Promise<boolean>;
  /** The agent a token hash belongs to, with the stored hash (for a constant-time comparison). */
  find(tokenHash: string): Promise<{ username: string; tokenHash: string } | undefined>;
  /** When the agent's current feed was made, if there is one. */
  createdAt(username: string): Promise<string | undefined>;
}

const HOST = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;
const stamp = (iso: string) => DateTime.fromISO(iso, { zone: 'utc' }).toFormat("yyyyMMdd'T'HHmmss'Z'");

/**
 * The agent's calendar feed (issue 14, point 7): one VEVENT per booked appointment with its times (UTC), the topic and
 * a link to the dashboard — never a resident's name, address, phone or remarks, and not the call link (whoever
 * reads the feed, a calendar server included, must not be able to join). UIDs differ from the invites'
 * (`<id>-feed@host`) so a calendar that has both shows them as two entries of two sources, not one edited twice.
 */
export function agentFeed(appointments: readonly Appointment[], o: { host: string; dashboardUrl: string; lang: 'nl' | 'en'; now: Date }): string {
  if (!HOST.test(o.host)) throw new Error('host must be a DNS name');
  if (!/^https?:\/\/[^\s"<>\\]+$/.test(o.dashboardUrl)) throw new Error('dashboardUrl must be an http(s) URL');
  const now = stamp(o.now.toISOString());
  const label = o.lang === 'nl' ? 'Video-afspraak' : 'Video appointment';
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//ID Video//Agent feed//NL',
    'CALSCALE:GREGORIAN',
    'METHOD:PUBLISH',
    `X-WR-CALNAME:${escapeText(label)}`,
    'X-PUBLISHED-TTL:PT15M',
  ];
  for (const a of appointments) {
    if (a.status !== 'booked') continue;
    lines.push(
      'BEGIN:VEVENT',
      `UID:${a.id}-feed@${o.host.toLowerCase()}`,
      `DTSTAMP:${now}`,
      `DTSTART:${stamp(a.startUtc)}`,
      `DTEND:${stamp(a.endUtc)}`,
      `SEQUENCE:${a.sequence}`,
      'STATUS:CONFIRMED',
      `SUMMARY:${escapeText(`${label}: ${headerSafe(a.topic, 150)}`)}`,
      `DESCRIPTION:${escapeText(o.dashboardUrl)}`,
      `URL:${o.dashboardUrl}`,
      'TRANSP:OPAQUE',
      'END:VEVENT',
    );
  }
  lines.push('END:VCALENDAR');
  return lines.map(foldLine).join('\r\n') + '\r\n';
}

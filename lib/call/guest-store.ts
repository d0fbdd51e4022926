import type { StoredLink } from '../links/types';
import type { NewOutboxRecord } from '../mail/outbox-store';

export const GUEST_KINDS = ['interpreter', 'sign_language_interpreter', 'family_member', 'other'] as const;
export type GuestKind = (typeof GUEST_KINDS)[number];

/** The third participant of one appointment (call_guests, migration 009): a kind, never a name or an address. */
export interface Guest {
  appointmentId: string;
  kind: GuestKind;
  /** Staff username (lower case) of whoever invited. */
  invitedBy: string;
  /** UTC ISO. */
  invitedAt: string;
  /** UTC ISO when the agent removed the guest; null while invited. */
  removedAt: string | null;
}

/**
 * Where a guest's mails go (migration 017): read only by the hand-off that tells the guest of a cancellation or a move,
 * never put into a message, a page or a log line.
 */
export interface GuestContact {
  email: string;
  lang: 'nl' | 'en';
}

/**
 * Where guests are kept (lib/store/sqlite/guests.ts, lib/store/postgres/guests.ts). Each write is one transaction on
 * either engine, so an invitation confirmed to the agent is stored with its link and its mail, or not at all.
 */
export interface GuestStore {
  /** The appointment's guest (also a removed one, with removedAt), or undefined. */
  get(appointmentId: string): Promise<Guest | undefined>;
  /**
   * Stores the guest (replacing an earlier one of the appointment), ends the earlier guest's call sessions, drops an
   * unsent earlier invitation, replaces the guest link and queues the invitation mail: one transaction.
   */
  invite(guest: Omit<Guest, 'removedAt'>, contact: GuestContact, link: StoredLink, mail: NewOutboxRecord): Promise<void>;
  /** The address of the appointment's guest while still invited (not removed, not erased), or undefined. */
  contact(appointmentId: string): Promise<GuestContact | undefined>;
  /**
   * Marks the guest removed at `atIso`, blanks the address, and deletes the guest link, the guest's call sessions and an unsent invitation:
   * one transaction. False when there was no guest still invited.
   */
  remove(appointmentId: string, atIso: string): Promise<boolean>;
}

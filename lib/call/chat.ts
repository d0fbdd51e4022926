import { UserError } from '../errors';
import { createRateLimiter, type LimitResult, type RateLimiter } from '../http/rate-limit';
import { ExactCache } from '../memory/exact-cache';
import { cleanTypedChars, cutGraphemes } from '../text/typed-text';

/**
 * The call's text chat (issue 13.1): for deaf and hard-of-hearing residents, for spelling a name or a reference number,
 * when the audio fails — and the agent's short messages to a resident who is still waiting ("Ik kom over 5 minuten bij
 * u"), which were its first form. Both sides type; every message is checked (lib/text/typed-text.ts, length), rate
 * limited per sender, pushed to the others and kept in memory only (lib/memory/exact-cache.ts): gone when the call
 * ends, when the agent presses "Verwijder nu", and KEEP_MS after the last message at the latest. Never stored, never
 * logged, never in a Node-RED message; the processing log gets who wrote when (lib/call/service.ts), never the text.
 */

/** Longest message, in user-perceived characters: a few sentences or a reference number spelled out, not a letter. */
export const MAX_MESSAGE_CHARS = 500;
/** Messages kept per appointment; older ones drop off (a call's chat, not an archive). */
export const MAX_MESSAGES = 200;
/** How long a chat lives after its last message at most (minutes): a waiting room where nobody came. */
export const KEEP_MINUTES = 30;

export type ChatRole = 'agent' | 'resident' | 'guest';
export const CHAT_ROLES: readonly ChatRole[] = ['agent', 'resident', 'guest'];

export interface ChatMessage {
  /** Ascending per appointment, for a page that asks for what is new. */
  seq: number;
  from: ChatRole;
  /** The text as typed, after the typed-text rule; pages show it with textContent, never as HTML. */
  text: string;
  /** UTC ISO 8601 (pages show it in Amsterdam time). */
  at: string;
}

interface ChatLog {
  appointmentId: string;
  seq: number;
  messages: ChatMessage[];
  /** When the guest was let in: a guest sees what was written from then on, not before (lib/call/guests.ts). */
  guestSince?: string;
}

export interface CallChatOptions {
  /** Pushes a message to the call's participants other than its sender; returns how many connections got it. */
  deliver(appointmentId: string, message: ChatMessage): number;
  /** Writes the processing-log line for a sent message (who and where, never the text). */
  record?(appointmentId: string, from: ChatRole, sender: string): Promise<unknown>;
  /** Minutes a chat is kept after its last message. Default KEEP_MINUTES. */
  keepMinutes?: number;
  /** Messages one sender may send in one appointment per window. Default 20. */
  perWindow?: number;
  /** The limit's window in ms. Default 60 000; tests shorten it. */
  windowMs?: number;
  /** Chats held at once (memory bound). Default 10 000. */
  maxChats?: number;
  now?: () => number;
}

/**
 * Checks a message text: the typed-text rule (controls become spaces, invisible and bidi characters go), one line,
 * 1 to MAX_MESSAGE_CHARS characters. Throws UserError(400) saying what is wrong.
 */
export function checkMessageText(raw: unknown): string {
  if (typeof raw !== 'string') throw new UserError(400, 'message_invalid', 'Typ een bericht. / Type a message.');
  if (raw.length > MAX_MESSAGE_CHARS * 8) throw new UserError(400, 'message_too_long', `Een bericht is hoogstens ${MAX_MESSAGE_CHARS} tekens. / A message has at most ${MAX_MESSAGE_CHARS} characters.`);
  const text = cleanTypedChars(raw, false).replace(/\s+/g, ' ').trim();
  if (!text) throw new UserError(400, 'message_empty', 'Typ een bericht. / Type a message.');
  if (cutGraphemes(text, MAX_MESSAGE_CHARS + 1).length > cutGraphemes(text, MAX_MESSAGE_CHARS).length) {
    throw new UserError(400, 'message_too_long', `Een bericht is hoogstens ${MAX_MESSAGE_CHARS} tekens. / A message has at most ${MAX_MESSAGE_CHARS} characters.`);
  }
  return text;
}

function wipe(log: ChatLog): void {
  for (const m of log.messages) m.text = '';
  log.messages.length = 0;
}

export class CallChat {
  private readonly logs: ExactCache<ChatLog>;
  private readonly limiter: RateLimiter;
  private readonly now: () => number;
  private readonly keepMs: number;

  constructor(private readonly o: CallChatOptions) {
    this.now = o.now ?? Date.now;
    this.keepMs = (o.keepMinutes ?? KEEP_MINUTES) * 60_000;
    this.logs = new ExactCache<ChatLog>({ wipe, maxEntries: o.maxChats ?? 10_000 });
    this.limiter = createRateLimiter({ windowMs: o.windowMs ?? 60_000, max: o.perWindow ?? 20 });
  }

  /**
   * Sends `raw` from `from` (`sender`: the agent's username or the session's short hash, for the rate limit) to the
   * others in `appointmentId`'s call; the caller has checked that the sender belongs to that appointment. Throws
   * UserError 400 for a bad text, 429 when the sender sends too many, 503 when memory for chats is full.
   */
  async send(appointmentId: string, from: ChatRole, sender: string, raw: unknown): Promise<{ delivered: number; message: ChatMessage }> {
    const text = checkMessageText(raw);
    const limit = await this.allowed(`${from}|${sender.toLowerCase()}|${appointmentId}`);
    if (!limit.ok) {
      throw new UserError(429, 'rate_limited', `Wacht even voordat u nog een bericht stuurt (${limit.retryAfterSec} s). / Please wait before sending another message.`);
    }
    let log = this.logs.get(appointmentId);
    if (!log) {
      log = { appointmentId, seq: 0, messages: [] };
      if (!this.logs.put(appointmentId, log, this.keepMs)) throw new UserError(503, 'chat_full', 'De chat is nu niet beschikbaar. / Chat is not available right now.');
    } else {
      this.logs.extend(appointmentId, this.keepMs);
    }
    const message: ChatMessage = { seq: ++log.seq, from, text, at: new Date(this.now()).toISOString() };
    log.messages.push(message);
    while (log.messages.length > MAX_MESSAGES) {
      const old = log.messages.shift();
      if (old) old.text = '';
    }
    await this.o.record?.(appointmentId, from, sender);
    return { delivered: this.o.deliver(appointmentId, { ...message }), message: { ...message } };
  }

  private allowed(key: string): Promise<LimitResult> {
    return this.limiter.hit(key);
  }

  /** Copies of the messages `role` may read that are newer than `afterSeq` (a guest: from its admission on). */
  history(appointmentId: string, role: ChatRole, afterSeq = 0): ChatMessage[] {
    const log = this.logs.get(appointmentId);
    if (!log) return [];
    const since = role === 'guest' ? log.guestSince ?? '9999' : '';
    return log.messages.filter((m) => m.seq > afterSeq && m.at >= since).map((m) => ({ ...m }));
  }

  /** Whether a message may go to a guest (written after the guest was let in). */
  guestMayRead(appointmentId: string, message: ChatMessage): boolean {
    const since = this.logs.get(appointmentId)?.guestSince;
    return since !== undefined && message.at >= since;
  }

  /** The guest was let in now: from here on they read along. */
  guestAdmitted(appointmentId: string): void {
    const log = this.logs.get(appointmentId);
    const at = new Date(this.now()).toISOString();
    if (log) log.guestSince ??= at;
    else this.logs.put(appointmentId, { appointmentId, seq: 0, messages: [], guestSince: at }, this.keepMs);
  }

  /** The call ended or the agent pressed "Verwijder nu": the whole chat goes (wiped in memory). True if there was one. */
  forget(appointmentId: string): boolean {
    return this.logs.delete(appointmentId);
  }

  /** Chats held now (health and tests). */
  get size(): number {
    return this.logs.size;
  }

  close(): void {
    this.logs.close();
  }
}

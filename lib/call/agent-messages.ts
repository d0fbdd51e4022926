import NodeCache from 'node-cache';
import { UserError } from '../errors';
import { createRateLimiter, type LimitResult, type RateLimiter } from '../http/rate-limit';

/**
 * Short messages from the agent to the resident of one appointment ("Ik kom over 5 minuten bij u"): checked, limited,
 * pushed to the resident's call page and kept in memory only — the latest one per appointment, for a page that
 * (re)connects after it was sent. Never stored, never logged, never in a Node-RED message: the text is the agent's
 * words to one resident. A later chat builds on this module (same limits, same push), so it stays small.
 */

/** Longest message, in characters (code points): a sentence, not a letter. */
export const MAX_MESSAGE_CHARS = 200;

export interface AgentMessage {
  /** The text as the agent typed it, trimmed; the resident's page shows it as text (textContent), never as HTML. */
  text: string;
  /** When it was sent, UTC ISO 8601 (pages show it in Amsterdam time). */
  at: string;
}

export interface AgentMessagesOptions {
  /** Delivers to the resident's call page of that appointment; returns how many connections got it. */
  deliver(appointmentId: string, message: AgentMessage): number;
  /** How long the latest message is kept for a page that connects later. Default 15 minutes. */
  keepSeconds?: number;
  /** Messages one agent may send in one appointment per window. Default 6. */
  perMinute?: number;
  /** The limit's window in ms. Default 60 000 (a minute); tests shorten it. */
  windowMs?: number;
  now?: () => number;
}

// Control characters (except none: a message is one line) and bidi overrides that could disguise the text.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;

/** Checks a message text: 1 to MAX_MESSAGE_CHARS characters of one line. Throws UserError(400) saying what is wrong. */
export function checkMessageText(raw: unknown): string {
  if (typeof raw !== 'string') throw new UserError(400, 'message_invalid', 'Typ een bericht. / Type a message.');
  const text = raw.normalize('NFC').replace(/\s+/g, ' ').trim();
  if (!text) throw new UserError(400, 'message_empty', 'Typ een bericht. / Type a message.');
  if ([...text].length > MAX_MESSAGE_CHARS) {
    throw new UserError(400, 'message_too_long', `Een bericht is hoogstens ${MAX_MESSAGE_CHARS} tekens. / A message has at most ${MAX_MESSAGE_CHARS} characters.`);
  }
  if (UNSAFE.test(text)) throw new UserError(400, 'message_invalid', 'Dit bericht bevat tekens die niet zijn toegestaan. / This message contains characters that are not allowed.');
  return text;
}

export class AgentMessages {
  private readonly latestByAppointment: NodeCache;
  private readonly limiter: RateLimiter;
  private readonly now: () => number;

  constructor(private readonly o: AgentMessagesOptions) {
    this.now = o.now ?? Date.now;
    this.latestByAppointment = new NodeCache({ stdTTL: o.keepSeconds ?? 15 * 60, checkperiod: 60, useClones: true, maxKeys: 10_000 });
    this.limiter = createRateLimiter({ windowMs: o.windowMs ?? 60_000, max: o.perMinute ?? 6 });
  }

  /**
   * Sends `raw` from `agent` to the resident of `appointmentId` (the caller has checked that it is the agent's own
   * appointment). Throws UserError 400 for a bad text and 429 when the agent sends too many.
   */
  async send(appointmentId: string, agent: string, raw: unknown): Promise<{ delivered: number; message: AgentMessage }> {
    const text = checkMessageText(raw);
    const limit = await this.allowed(`${agent.toLowerCase()}|${appointmentId}`);
    if (!limit.ok) {
      throw new UserError(429, 'rate_limited', `Wacht even voordat u nog een bericht stuurt (${limit.retryAfterSec} s). / Please wait before sending another message.`);
    }
    const message: AgentMessage = { text, at: new Date(this.now()).toISOString() };
    try {
      this.latestByAppointment.set(appointmentId, message);
    } catch {
      // The cache is full (ECACHEFULL): the push below still reaches a connected resident.
    }
    return { delivered: this.o.deliver(appointmentId, message), message };
  }

  private allowed(key: string): Promise<LimitResult> {
    return this.limiter.hit(key);
  }

  /** The latest message of an appointment within its keep time, for a resident page that (re)connects. */
  latest(appointmentId: string): AgentMessage | undefined {
    return this.latestByAppointment.get<AgentMessage>(appointmentId);
  }

  /** The call ended: its message goes too. */
  forget(appointmentId: string): void {
    this.latestByAppointment.del(appointmentId);
  }

  close(): void {
    this.latestByAppointment.flushAll();
    this.latestByAppointment.close();
  }
}

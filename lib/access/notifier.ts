import type { Effects } from '../events/types';
import type { LinkService } from '../links';
import { hashToken, newToken } from '../security/tokens';
import { validityWindow } from '../links/window';
import { composeAppointmentMail } from '../mail/compose';
import { DEFAULT_TEMPLATES, type MailKind, type MailLang, type MailTemplate } from '../mail/templates';
import type { Outbox, OutgoingMail } from '../mail/outbox';
import type { NewOutboxRecord } from '../mail/outbox-store';
import { emailReminders, smsReminders, type ReminderChannel } from '../reminders/channel';
import { reminderMoments } from '../reminders/schedule';
import type { SmsOutbox } from '../sms/outbox';
import { composeSms, SMS_KINDS } from '../sms/texts';
import type { AppointmentNotice } from './booking-message';
import { DASHBOARD_PLACEHOLDER, type SessionLinkConfig } from './session-link-config';

/** What planning needs around it; the node supplies the process-wide services. Nothing here writes. */
export interface PlanDeps {
  links: Pick<LinkService, 'prepare'>;
  outbox: Pick<Outbox, 'prepare'>;
  /** The SMS outbox, when this node sends SMS (lib/sms). */
  sms?: Pick<SmsOutbox, 'prepare'>;
  /** The agent's display name for the salutation (staff account), if known. */
  agentName(username: string): Promise<string | undefined>;
  /** Reminder channels besides e-mail (SMS plugs in here); each plans its rows into the same effects. */
  reminderChannels?: readonly ReminderChannel[];
  /** Clock for which reminder moments still lie ahead. */
  now?: () => Date;
}

/** A booking planned again after a move: other mail kinds, the invite's next SEQUENCE. */
export interface MovedPlan {
  /** The appointment's invite revision after the move (appointments.sequence). */
  sequence: number;
}

/** Per-message context: where links point and who sends. */
export interface NotifyContext {
  /** Public base URL without trailing slash. */
  base: string;
  /** Host for invite UIDs. */
  host: string;
  municipality: string;
  fromAddress: string;
  config: SessionLinkConfig;
  /** The SMS gateway this node sends through (config node id) and its own texts; absent: no SMS. */
  sms?: { gateway: string; texts: { nl?: string; en?: string } };
}

/** Why something was left out; codes for status and warnings, never addresses. */
export type Skipped =
  | 'resident-mail-off'
  | 'resident-address-unknown'
  | 'agent-mail-off'
  | 'agent-address-unknown'
  | 'cancel-page-unserved'
  /** The resident asked for SMS, but this node has no (valid) SMS gateway. */
  | 'sms-unconfigured';

/** How the resident's cancel link is made: given by a foreign message, or issued here for a booking page path. */
export type CancelLinkPlan = { given: string } | { issueFor: string } | { none: true };

export interface BookedPlan {
  /** Links, cancel-token hash and mails, to be stored in one transaction (EventStore.finish / apply). */
  effects: Effects;
  /** The access links (secrets) for output 1; never stored. */
  links: { resident: string; agent: string };
  mails: { id: string; kind: MailKind }[];
  /** SMS queued with the effects (ids and kinds only). */
  sms: { id: string; kind: string }[];
  skipped: Skipped[];
}

export interface CancelledPlan {
  effects: Effects;
  mails: { id: string; kind: MailKind }[];
  skipped: Skipped[];
}

const AGENT_LANG: MailLang = 'nl';
const PLACEHOLDER = new RegExp(`\\{\\{\\s*${DASHBOARD_PLACEHOLDER}\\s*\\}\\}`, 'g');
const DASHBOARD_LINE: Record<MailLang, string> = { nl: 'Dashboard:', en: 'Dashboard:' };

function override(config: SessionLinkConfig, kind: MailKind, lang: MailLang): Partial<MailTemplate> | undefined {
  return config.templates[kind]?.[lang];
}

/**
 * The agent announcement carries the dashboard address. lib/mail has no placeholder for it, so it is filled in
 * here, before rendering; our own URL, so it needs no sanitising. The default text gets it as an extra paragraph.
 */
function withDashboard(config: SessionLinkConfig, dashboard: string): Partial<MailTemplate> {
  const own = override(config, 'agent-announcement', AGENT_LANG) ?? {};
  const base = DEFAULT_TEMPLATES['agent-announcement'][AGENT_LANG];
  let text = own.text ?? base.text;
  if (!own.text && !PLACEHOLDER.test(text)) {
    const paragraphs = text.split('\n\n');
    // Before the closing line (the municipality's name), so the signature stays last.
    paragraphs.splice(Math.max(1, paragraphs.length - 1), 0, `${DASHBOARD_LINE[AGENT_LANG]}\n{{${DASHBOARD_PLACEHOLDER}}}`);
    text = paragraphs.join('\n\n');
  }
  PLACEHOLDER.lastIndex = 0;
  return { ...own, text: text.replace(PLACEHOLDER, dashboard), ...(own.subject ? { subject: own.subject.replace(PLACEHOLDER, dashboard) } : {}) };
}

/**
 * A booking: fresh links for resident and agent (replacing earlier ones), a fresh cancel token when asked, the
 * confirmation and the announcement, all rendered first and returned as effects to store in one transaction, so a
 * crash or a bad template leaves nothing half-done. Throws on a mail that cannot be rendered.
 */
export async function planBooked(deps: PlanDeps, ctx: NotifyContext, ev: AppointmentNotice, cancel: CancelLinkPlan, moved?: MovedPlan): Promise<BookedPlan> {
  const { config } = ctx;
  const a = ev.appointment;
  const window = validityWindow(a.start, a.end, { beforeMinutes: config.beforeMinutes, afterMinutes: config.afterMinutes });
  const agentEmail = config.agentEmails.get(a.agent.toLowerCase());
  const skipped: Skipped[] = [];
  // An unplanned session an ID Contact core started has no resident address: nobody to mail, nothing to retry.
  const residentMail = config.sendResident && ev.resident.email !== '';
  if (!config.sendResident) skipped.push('resident-mail-off');
  else if (!residentMail) skipped.push('resident-address-unknown');
  if (!config.sendAgent) skipped.push('agent-mail-off');
  else if (!agentEmail) skipped.push('agent-address-unknown');
  const agentName = agentEmail && config.sendAgent ? ((await deps.agentName(a.agent)) ?? a.agent) : a.agent;

  const resident = deps.links.prepare({ appointmentId: a.id, role: 'resident', ...window });
  const agent = deps.links.prepare({ appointmentId: a.id, role: 'agent', agentUsername: a.agent, ...window });
  const links = { resident: `${ctx.base}/v/${resident.token}`, agent: `${ctx.base}/v/${agent.token}` };
  const effects: Effects = { appointmentId: a.id, links: [resident.link, agent.link] };
  let cancelLink: string | undefined;
  let rescheduleLink: string | undefined;
  if ('given' in cancel) cancelLink = cancel.given;
  else if ('issueFor' in cancel) {
    // One token opens both pages of the resident's own booking: cancel it, or move it ("Afspraak wijzigen").
    const token = newToken();
    cancelLink = `${ctx.base}${cancel.issueFor}/annuleren/${token}`;
    rescheduleLink = `${ctx.base}${cancel.issueFor}/wijzigen/${token}`;
    effects.cancelTokenHash = hashToken(token);
  } else if (residentMail) skipped.push('cancel-page-unserved');

  const sender = { name: ctx.municipality, email: ctx.fromAddress };
  const common = { topic: a.topic, municipality: ctx.municipality, start: a.start, end: a.end, opensAt: window.validFrom, ...(ev.resident.remarks ? { remarks: ev.resident.remarks } : {}) };
  const mails: OutgoingMail[] = [];
  const sequence = moved?.sequence ?? 0;
  const residentKind: MailKind = moved ? 'resident-rescheduled' : 'resident-confirmation';
  if (residentMail) {
    mails.push(
      composeAppointmentMail({
        kind: residentKind,
        lang: ev.resident.lang,
        appointmentId: a.id,
        host: ctx.host,
        recipient: { name: ev.resident.name, email: ev.resident.email },
        sender,
        data: { ...common, link: links.resident, ...(cancelLink ? { cancelLink } : {}), ...(rescheduleLink ? { rescheduleLink } : {}) },
        template: override(config, residentKind, ev.resident.lang),
        sequence,
      }),
    );
  }
  if (config.sendAgent && agentEmail) {
    mails.push(
      composeAppointmentMail({
        kind: moved ? 'agent-rescheduled' : 'agent-announcement',
        lang: AGENT_LANG,
        appointmentId: a.id,
        host: ctx.host,
        recipient: { name: agentName, email: agentEmail },
        sender,
        data: { ...common, link: links.agent, residentName: ev.resident.name },
        template: moved ? override(config, 'agent-rescheduled', AGENT_LANG) : withDashboard(config, `${ctx.base}/agent`),
        sequence,
      }),
    );
  }
  effects.mails = mails.map((m) => deps.outbox.prepare(m));
  const smsWanted = Boolean(ev.resident.sms && ev.resident.phone);
  const smsVia = smsWanted && ctx.sms && deps.sms ? { gateway: ctx.sms.gateway, texts: ctx.sms.texts, outbox: deps.sms } : undefined;
  if (smsWanted && !smsVia) skipped.push('sms-unconfigured');
  if (smsVia) {
    const lang = ev.resident.lang;
    const composed = composeSms('sms-confirmation', lang, { municipality: ctx.municipality, start: a.start, link: links.resident }, smsVia.texts[lang]);
    effects.sms = [smsVia.outbox.prepare({ kind: 'sms-confirmation', appointmentId: a.id, gateway: smsVia.gateway, to: ev.resident.phone as string, text: composed.text })];
  }
  // Reminders: rows with their own moment, planned now with the same links, stored in the same transaction.
  const moments = reminderMoments(new Date(Date.parse(a.start)).toISOString(), config.reminderLeadsMs, deps.now?.() ?? new Date());
  if (moments.length > 0) {
    const channels: ReminderChannel[] = [
      ...(residentMail ? [emailReminders(deps.outbox, (lang) => override(config, 'resident-reminder', lang))] : []),
      // The node's own SMS text is the confirmation's; reminders take the default reminder texts (lib/sms/texts.ts).
      ...(smsVia ? [smsReminders(smsVia.outbox, smsVia.gateway)] : []),
      ...(deps.reminderChannels ?? []),
    ];
    const input = {
      appointmentId: a.id,
      lang: ev.resident.lang,
      resident: { name: ev.resident.name, email: residentMail ? ev.resident.email : '', phone: ev.resident.phone ?? null, sms: Boolean(smsVia) },
      start: a.start,
      end: a.end,
      opensAt: window.validFrom,
      topic: a.topic,
      municipality: ctx.municipality,
      host: ctx.host,
      sender,
      links: { access: links.resident, ...(cancelLink ? { cancel: cancelLink } : {}), ...(rescheduleLink ? { reschedule: rescheduleLink } : {}) },
      moments,
    };
    for (const channel of channels) {
      const planned = channel.plan(input);
      effects.mails.push(...(planned.mails ?? []));
      if (planned.sms?.length) effects.sms = [...(effects.sms ?? []), ...planned.sms];
    }
  }
  return {
    effects,
    links,
    mails: effects.mails.map((r) => ({ id: r.id, kind: r.kind as MailKind })),
    sms: (effects.sms ?? []).map((r) => ({ id: r.id, kind: r.kind })),
    skipped,
  };
}

/**
 * A cancellation: links and call sessions stop working, unsent confirmations are dropped (their links are dead),
 * and the cancellations go out with METHOD:CANCEL for the same UID and a higher SEQUENCE. Returned as effects to
 * store in one transaction.
 */
export async function planCancelled(deps: PlanDeps, ctx: NotifyContext, ev: AppointmentNotice, sequence = 0): Promise<CancelledPlan> {
  const { config } = ctx;
  const a = ev.appointment;
  const agentEmail = config.agentEmails.get(a.agent.toLowerCase());
  const skipped: Skipped[] = [];
  const residentMail = config.sendResident && ev.resident.email !== '';
  if (!config.sendResident) skipped.push('resident-mail-off');
  else if (!residentMail) skipped.push('resident-address-unknown');
  if (!config.sendAgent) skipped.push('agent-mail-off');
  else if (!agentEmail) skipped.push('agent-address-unknown');
  const sender = { name: ctx.municipality, email: ctx.fromAddress };
  const common = { topic: a.topic, municipality: ctx.municipality, start: a.start, end: a.end };
  const mails: OutgoingMail[] = [];
  if (residentMail) {
    mails.push(
      composeAppointmentMail({
        kind: 'resident-cancellation',
        lang: ev.resident.lang,
        appointmentId: a.id,
        host: ctx.host,
        recipient: { name: ev.resident.name, email: ev.resident.email },
        sender,
        data: common,
        template: override(config, 'resident-cancellation', ev.resident.lang),
        sequence,
      }),
    );
  }
  if (config.sendAgent && agentEmail) {
    const agentName = (await deps.agentName(a.agent)) ?? a.agent;
    mails.push(
      composeAppointmentMail({
        kind: 'agent-cancellation',
        lang: AGENT_LANG,
        appointmentId: a.id,
        host: ctx.host,
        recipient: { name: agentName, email: agentEmail },
        sender,
        data: { ...common, residentName: ev.resident.name },
        template: override(config, 'agent-cancellation', AGENT_LANG),
        sequence,
      }),
    );
  }
  const records = mails.map((m) => deps.outbox.prepare(m));
  return {
    effects: {
      appointmentId: a.id,
      revokeLinks: true,
      discardMailKinds: ['resident-confirmation', 'agent-announcement', 'resident-reminder', 'resident-rescheduled', 'agent-rescheduled'],
      // An SMS still waiting carries a link that dies now.
      discardSmsKinds: [...SMS_KINDS],
      mails: records,
    },
    mails: records.map((r) => ({ id: r.id, kind: r.kind as MailKind })),
    skipped,
  };
}

/**
 * A move to another agent: the agent who had the appointment gets the cancellation of the old time (same UID, a
 * higher SEQUENCE than their invite), so it leaves their calendar. Mails to store with the move's effects.
 */
export async function planMovedAway(
  deps: PlanDeps,
  ctx: NotifyContext,
  ev: AppointmentNotice,
  previous: { startUtc: string; endUtc: string; agent: string },
  sequence: number,
): Promise<NewOutboxRecord[]> {
  const { config } = ctx;
  const email = config.agentEmails.get(previous.agent.toLowerCase());
  if (!config.sendAgent || !email) return [];
  const name = (await deps.agentName(previous.agent)) ?? previous.agent;
  const mail = composeAppointmentMail({
    kind: 'agent-cancellation',
    lang: AGENT_LANG,
    appointmentId: ev.appointment.id,
    host: ctx.host,
    recipient: { name, email },
    sender: { name: ctx.municipality, email: ctx.fromAddress },
    data: { topic: ev.appointment.topic, municipality: ctx.municipality, start: previous.startUtc, end: previous.endUtc, residentName: ev.resident.name },
    template: override(config, 'agent-cancellation', AGENT_LANG),
    sequence,
  });
  return [deps.outbox.prepare(mail)];
}

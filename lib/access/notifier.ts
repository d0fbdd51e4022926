import type { LinkService } from '../links';
import { validityWindow } from '../links/window';
import { composeAppointmentMail } from '../mail/compose';
import { DEFAULT_TEMPLATES, type MailKind, type MailLang, type MailTemplate } from '../mail/templates';
import type { Outbox, OutgoingMail } from '../mail/outbox';
import type { AppointmentNotice } from './booking-message';
import { DASHBOARD_PLACEHOLDER, type SessionLinkConfig } from './session-link-config';

/** What the notifier needs around it; the node supplies the process-wide services. */
export interface NotifierDeps {
  links: LinkService;
  outbox: Pick<Outbox, 'enqueue' | 'discard'>;
  /** The agent's display name for the salutation (staff account), if known. */
  agentName(username: string): Promise<string | undefined>;
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
}

/** Why a mail was not sent; codes for status and warnings, never addresses. */
export type Skipped = 'resident-mail-off' | 'agent-mail-off' | 'agent-address-unknown';

export interface BookedResult {
  links: { resident: string; agent: string };
  mails: { id: string; kind: MailKind }[];
  skipped: Skipped[];
}

export interface CancelledResult {
  revoked: number;
  discarded: number;
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

async function enqueueAll(deps: NotifierDeps, appointmentId: string, mails: OutgoingMail[]): Promise<{ id: string; kind: MailKind }[]> {
  const done: { id: string; kind: MailKind }[] = [];
  try {
    for (const m of mails) {
      const { id } = await deps.outbox.enqueue(m);
      done.push({ id, kind: m.kind as MailKind });
    }
  } catch (e) {
    // All or nothing: a half-announced appointment is worse than a clear error the flow can catch and retry.
    if (done.length) await deps.outbox.discard(appointmentId, done.map((d) => d.kind)).catch(() => undefined);
    throw e;
  }
  return done;
}

/**
 * A booking: fresh links for resident and agent (replacing earlier ones), then the confirmation and the
 * announcement into the outbox. Rendering happens before anything is queued; if it or the queue fails, the new
 * links are revoked again, so nothing is left half-done.
 */
export async function notifyBooked(deps: NotifierDeps, ctx: NotifyContext, ev: AppointmentNotice): Promise<BookedResult> {
  const { config } = ctx;
  const a = ev.appointment;
  const window = validityWindow(a.start, a.end, { beforeMinutes: config.beforeMinutes, afterMinutes: config.afterMinutes });
  const agentEmail = config.agentEmails.get(a.agent.toLowerCase());
  const skipped: Skipped[] = [];
  if (!config.sendResident) skipped.push('resident-mail-off');
  if (!config.sendAgent) skipped.push('agent-mail-off');
  else if (!agentEmail) skipped.push('agent-address-unknown');
  const agentName = agentEmail && config.sendAgent ? ((await deps.agentName(a.agent)) ?? a.agent) : a.agent;

  const residentToken = await deps.links.issue({ appointmentId: a.id, role: 'resident', ...window });
  const agentToken = await deps.links.issue({ appointmentId: a.id, role: 'agent', agentUsername: a.agent, ...window });
  const links = { resident: `${ctx.base}/v/${residentToken}`, agent: `${ctx.base}/v/${agentToken}` };
  try {
    const sender = { name: ctx.municipality, email: ctx.fromAddress };
    const common = { topic: a.topic, municipality: ctx.municipality, start: a.start, end: a.end, opensAt: window.validFrom, ...(ev.resident.remarks ? { remarks: ev.resident.remarks } : {}) };
    const mails: OutgoingMail[] = [];
    if (config.sendResident) {
      mails.push(
        composeAppointmentMail({
          kind: 'resident-confirmation',
          lang: ev.resident.lang,
          appointmentId: a.id,
          host: ctx.host,
          recipient: { name: ev.resident.name, email: ev.resident.email },
          sender,
          data: { ...common, link: links.resident, ...(ev.cancelLink ? { cancelLink: ev.cancelLink } : {}) },
          template: override(config, 'resident-confirmation', ev.resident.lang),
          sequence: 0,
        }),
      );
    }
    if (config.sendAgent && agentEmail) {
      mails.push(
        composeAppointmentMail({
          kind: 'agent-announcement',
          lang: AGENT_LANG,
          appointmentId: a.id,
          host: ctx.host,
          recipient: { name: agentName, email: agentEmail },
          sender,
          data: { ...common, link: links.agent, residentName: ev.resident.name },
          template: withDashboard(config, `${ctx.base}/agent`),
          sequence: 0,
        }),
      );
    }
    const queued = await enqueueAll(deps, a.id, mails);
    return { links, mails: queued, skipped };
  } catch (e) {
    await deps.links.revokeForAppointment(a.id).catch(() => undefined);
    throw e;
  }
}

/**
 * A cancellation: links and call sessions stop working at once, unsent confirmations are dropped (their links are
 * dead), and the cancellations go out with METHOD:CANCEL for the same UID and a higher SEQUENCE.
 */
export async function notifyCancelled(deps: NotifierDeps, ctx: NotifyContext, ev: AppointmentNotice): Promise<CancelledResult> {
  const { config } = ctx;
  const a = ev.appointment;
  const agentEmail = config.agentEmails.get(a.agent.toLowerCase());
  const skipped: Skipped[] = [];
  if (!config.sendResident) skipped.push('resident-mail-off');
  if (!config.sendAgent) skipped.push('agent-mail-off');
  else if (!agentEmail) skipped.push('agent-address-unknown');
  const sender = { name: ctx.municipality, email: ctx.fromAddress };
  const common = { topic: a.topic, municipality: ctx.municipality, start: a.start, end: a.end };
  // Rendered first: a message that cannot be rendered changes nothing.
  const mails: OutgoingMail[] = [];
  if (config.sendResident) {
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
        sequence: 0,
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
        sequence: 0,
      }),
    );
  }
  const revoked = await deps.links.revokeForAppointment(a.id);
  const discarded = await deps.outbox.discard(a.id, ['resident-confirmation', 'agent-announcement']);
  const queued = await enqueueAll(deps, a.id, mails);
  return { revoked, discarded, mails: queued, skipped };
}

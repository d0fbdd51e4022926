import { composeAppointmentMail } from '../mail/compose';
import type { NewOutboxRecord } from '../mail/outbox-store';
import type { Outbox } from '../mail/outbox';
import type { MailLang, MailTemplate } from '../mail/templates';
import type { StoredLink } from '../links/types';
import type { LinkService } from '../links';
import type { GuestContact, GuestKind } from './guest-store';

/** Outbox kinds of the guest's mails; a later mail drops an unsent earlier one (its link or time is stale). */
export const GUEST_MAIL_KINDS = ['guest-invitation', 'guest-rescheduled', 'guest-cancellation'] as const;
export type GuestMailKind = (typeof GUEST_MAIL_KINDS)[number];

/** The role the guest comes in, in the mail's language; a kind the invitation did not record reads as "third participant". */
export const GUEST_LABEL: Record<MailLang, Record<GuestKind, string>> = {
  nl: { interpreter: 'tolk', sign_language_interpreter: 'gebarentolk', family_member: 'familielid', other: 'derde deelnemer' },
  en: { interpreter: 'interpreter', sign_language_interpreter: 'sign-language interpreter', family_member: 'family member', other: 'third participant' },
};

const TEMPLATES: Record<GuestMailKind, Record<MailLang, MailTemplate>> = {
  'guest-invitation': {
    nl: {
      subject: 'Uitnodiging: video-afspraak van {{municipality}} op {{date}} om {{time}}',
      text: `Goedendag,

U bent uitgenodigd om als {{name}} deel te nemen aan een video-afspraak van {{municipality}}.

Datum: {{date}}
Tijd: {{time}} tot {{endTime}}

Via deze link neemt u deel:
{{link}}
De link werkt vanaf {{opensAt}} uur. U controleert eerst uw camera en microfoon; daarna laat de medewerker u toe tot het gesprek. Deel de link met niemand.

Privacy: het gesprek wordt niet opgenomen. U ziet geen gegevens waarmee de inwoner zich identificeert en geen documenten die de inwoner deelt.

Met vriendelijke groet,
{{municipality}}`,
    },
    en: {
      subject: 'Invitation: video appointment of {{municipality}} on {{date}} at {{time}}',
      text: `Hello,

You are invited to take part as {{name}} in a video appointment of {{municipality}}.

Date: {{date}}
Time: {{time}} to {{endTime}}

Join through this link:
{{link}}
The link works from {{opensAt}}. You first check your camera and microphone; then the employee lets you into the call. Do not share the link.

Privacy: the call is not recorded. You do not see the data the resident identifies with, nor documents the resident shares.

Kind regards,
{{municipality}}`,
    },
  },
  'guest-rescheduled': {
    nl: {
      subject: 'Gewijzigd: video-afspraak van {{municipality}} is verplaatst naar {{date}} om {{time}}',
      text: `Goedendag,

De video-afspraak van {{municipality}} waarvoor u als {{name}} bent uitgenodigd, is verplaatst.

Nieuwe datum: {{date}}
Nieuwe tijd: {{time}} tot {{endTime}}

Via deze nieuwe link neemt u deel:
{{link}}
De link werkt vanaf {{opensAt}} uur. De link uit de eerdere uitnodiging werkt niet meer. Deel de link met niemand.

Met vriendelijke groet,
{{municipality}}`,
    },
    en: {
      subject: 'Changed: video appointment of {{municipality}} moved to {{date}} at {{time}}',
      text: `Hello,

The video appointment of {{municipality}} you were invited to as {{name}} has been moved.

New date: {{date}}
New time: {{time}} to {{endTime}}

Join through this new link:
{{link}}
The link works from {{opensAt}}. The link in the earlier invitation no longer works. Do not share the link.

Kind regards,
{{municipality}}`,
    },
  },
  'guest-cancellation': {
    nl: {
      subject: 'Geannuleerd: video-afspraak van {{municipality}} op {{date}} om {{time}}',
      text: `Goedendag,

De video-afspraak van {{municipality}} op {{date}} om {{time}}, waarvoor u als {{name}} bent uitgenodigd, gaat niet door. De link uit de uitnodiging werkt niet meer.

U hoeft niets te doen.

Met vriendelijke groet,
{{municipality}}`,
    },
    en: {
      subject: 'Cancelled: video appointment of {{municipality}} on {{date}} at {{time}}',
      text: `Hello,

The video appointment of {{municipality}} on {{date}} at {{time}}, which you were invited to as {{name}}, will not take place. The link in the invitation no longer works.

You do not need to do anything.

Kind regards,
{{municipality}}`,
    },
  },
};

/** Who sends and where links point (the idv-settings of the node that plans the mail). */
export interface GuestMailSender {
  base: string;
  host: string;
  municipality: string;
  fromAddress: string;
}

export interface GuestMailInput {
  kind: GuestMailKind;
  appointmentId: string;
  guestKind: GuestKind;
  contact: GuestContact;
  /** Public ISO times of the appointment (after a move: the new ones). */
  start: string;
  end: string;
  /** Invitation and move: the guest's link window (UTC ISO); the link is made here. */
  window?: { validFrom: string; validUntil: string };
  /** The appointment's invite revision (appointments.sequence); a cancellation goes out with sequence + 1. */
  sequence?: number;
}

/**
 * One mail to the third participant, ready for the outbox, and for an invitation or a move the new guest link (hash
 * only: its token goes into this mail and nowhere else). Nothing is written: the caller stores link and mail in one
 * transaction with the change they follow (GuestStore.invite, or EventStore.finish for a cancellation or a move).
 * The calendar invite has the appointment's UID, as the resident's; a cancellation carries METHOD:CANCEL.
 */
export function planGuestMail(
  deps: { links: Pick<LinkService, 'prepare'>; outbox: Pick<Outbox, 'prepare'> },
  sender: GuestMailSender,
  m: GuestMailInput,
): { mail: NewOutboxRecord; link?: StoredLink } {
  const lang: MailLang = m.contact.lang === 'en' ? 'en' : 'nl';
  const issued = m.window ? deps.links.prepare({ appointmentId: m.appointmentId, role: 'guest', ...m.window }) : undefined;
  const mail = composeAppointmentMail({
    // The composer's kinds decide the invite's METHOD; the outbox row is then labelled as the guest's mail.
    kind: m.kind === 'guest-cancellation' ? 'resident-cancellation' : 'resident-confirmation',
    lang,
    appointmentId: m.appointmentId,
    host: sender.host,
    recipient: { name: GUEST_LABEL[lang][m.guestKind], email: m.contact.email },
    sender: { name: sender.municipality, email: sender.fromAddress },
    data: {
      topic: '',
      municipality: sender.municipality,
      start: m.start,
      end: m.end,
      ...(m.window ? { opensAt: m.window.validFrom } : {}),
      ...(issued ? { link: `${sender.base}/v/${issued.token}` } : {}),
    },
    template: TEMPLATES[m.kind][lang],
    ...(m.sequence !== undefined ? { sequence: m.sequence } : {}),
  });
  return { mail: deps.outbox.prepare({ ...mail, kind: m.kind }), ...(issued ? { link: issued.link } : {}) };
}

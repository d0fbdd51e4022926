import type { MailLang } from './when';

/** The mails ID Video sends. */
export type MailKind =
  | 'resident-confirmation'
  | 'resident-cancellation'
  | 'resident-reminder'
  | 'resident-rescheduled'
  | 'agent-announcement'
  | 'agent-cancellation'
  | 'agent-rescheduled';
export const MAIL_KINDS: readonly MailKind[] = [
  'resident-confirmation',
  'resident-cancellation',
  'resident-reminder',
  'resident-rescheduled',
  'agent-announcement',
  'agent-cancellation',
  'agent-rescheduled',
];

/**
 * A mail template. `text` is plain text with {{placeholders}}; unless `html` is given, the HTML part is derived
 * from it (blank line = paragraph, lines starting with "- " = list, {{link}}/{{cancelLink}} = clickable links).
 * A custom `html` is trusted markup from the administrator; the values put into it are still escaped.
 */
export interface MailTemplate {
  subject: string;
  text: string;
  html?: string;
}

const residentConfirmationNl: MailTemplate = {
  subject: 'Bevestiging van uw video-afspraak op {{date}} om {{time}}',
  text: `Beste {{name}},

Uw video-afspraak met {{municipality}} is gemaakt.

Datum: {{date}}
Tijd: {{time}} tot {{endTime}}
Onderwerp: {{topic}}

Via deze link neemt u deel aan het videogesprek:
{{link}}
De link werkt vanaf {{opensAt}} uur. Deel de link met niemand: wie de link heeft, kan aan het gesprek deelnemen.

Wat heeft u nodig?
- een rustige plek waar u ongestoord kunt praten
- een computer, tablet of telefoon met camera en microfoon
- de DigiD app op uw telefoon, als de medewerker tijdens het gesprek moet vaststellen wie u bent

Kunt u niet op dit tijdstip? Kies een ander moment via:
{{rescheduleLink}}
Of annuleer de afspraak via:
{{cancelLink}}

Privacy: het gesprek wordt niet opgenomen. Als u zich tijdens het gesprek identificeert, ziet de medewerker alleen de gegevens die voor uw vraag nodig zijn. Die gegevens worden kort bewaard en daarna verwijderd. Wij gebruiken uw e-mailadres alleen voor deze afspraak.

Met vriendelijke groet,
{{municipality}}`,
};

const residentConfirmationEn: MailTemplate = {
  subject: 'Confirmation of your video appointment on {{date}} at {{time}}',
  text: `Dear {{name}},

Your video appointment with {{municipality}} has been booked.

Date: {{date}}
Time: {{time}} to {{endTime}}
Topic: {{topic}}

Join the video call with this link:
{{link}}
The link works from {{opensAt}}. Do not share it: anyone who has the link can join the call.

What you need
- a quiet place where you will not be disturbed
- a computer, tablet or phone with a camera and microphone
- the DigiD app on your phone, in case the employee needs to confirm who you are during the call

Can you not make it? Choose another time here:
{{rescheduleLink}}
Or cancel the appointment here:
{{cancelLink}}

Privacy: the call is not recorded. If you identify yourself during the call, the employee sees only the details needed for your question. Those details are kept briefly and then deleted. We use your e-mail address only for this appointment.

Kind regards,
{{municipality}}`,
};

const residentCancellationNl: MailTemplate = {
  subject: 'Uw video-afspraak op {{date}} om {{time}} is geannuleerd',
  text: `Beste {{name}},

Uw video-afspraak met {{municipality}} op {{date}} om {{time}} over "{{topic}}" is geannuleerd. De link uit de bevestiging werkt niet meer.

Wilt u toch een afspraak? Maak dan een nieuwe afspraak via de website van {{municipality}}.

Met vriendelijke groet,
{{municipality}}`,
};

const residentCancellationEn: MailTemplate = {
  subject: 'Your video appointment on {{date}} at {{time}} has been cancelled',
  text: `Dear {{name}},

Your video appointment with {{municipality}} on {{date}} at {{time}} about "{{topic}}" has been cancelled. The link in the confirmation no longer works.

Still need an appointment? Please book a new one on the website of {{municipality}}.

Kind regards,
{{municipality}}`,
};

const residentReminderNl: MailTemplate = {
  subject: 'Herinnering: uw video-afspraak op {{date}} om {{time}}',
  text: `Beste {{name}},

Dit is een herinnering aan uw video-afspraak met {{municipality}}.

Datum: {{date}}
Tijd: {{time}} tot {{endTime}}
Onderwerp: {{topic}}

Via deze link neemt u deel aan het videogesprek:
{{link}}
De link werkt vanaf {{opensAt}} uur. Deel de link met niemand.

Kunt u niet op dit tijdstip? Kies een ander moment via:
{{rescheduleLink}}
Of annuleer de afspraak via:
{{cancelLink}}

Met vriendelijke groet,
{{municipality}}`,
};

const residentReminderEn: MailTemplate = {
  subject: 'Reminder: your video appointment on {{date}} at {{time}}',
  text: `Dear {{name}},

This is a reminder of your video appointment with {{municipality}}.

Date: {{date}}
Time: {{time}} to {{endTime}}
Topic: {{topic}}

Join the video call with this link:
{{link}}
The link works from {{opensAt}}. Do not share it.

Can you not make it? Choose another time here:
{{rescheduleLink}}
Or cancel the appointment here:
{{cancelLink}}

Kind regards,
{{municipality}}`,
};

const residentRescheduledNl: MailTemplate = {
  subject: 'Uw video-afspraak is verplaatst naar {{date}} om {{time}}',
  text: `Beste {{name}},

Uw video-afspraak met {{municipality}} is verplaatst.

Nieuwe datum: {{date}}
Tijd: {{time}} tot {{endTime}}
Onderwerp: {{topic}}

Via deze nieuwe link neemt u deel aan het videogesprek:
{{link}}
De link werkt vanaf {{opensAt}} uur. De links uit eerdere e-mails werken niet meer.

Kunt u niet op dit tijdstip? Kies een ander moment via:
{{rescheduleLink}}
Of annuleer de afspraak via:
{{cancelLink}}

Met vriendelijke groet,
{{municipality}}`,
};

const residentRescheduledEn: MailTemplate = {
  subject: 'Your video appointment has moved to {{date}} at {{time}}',
  text: `Dear {{name}},

Your video appointment with {{municipality}} has been moved.

New date: {{date}}
Time: {{time}} to {{endTime}}
Topic: {{topic}}

Join the video call with this new link:
{{link}}
The link works from {{opensAt}}. The links in earlier e-mails no longer work.

Can you not make it? Choose another time here:
{{rescheduleLink}}
Or cancel the appointment here:
{{cancelLink}}

Kind regards,
{{municipality}}`,
};

const agentRescheduledNl: MailTemplate = {
  subject: 'Verplaatst: video-afspraak nu op {{date}} om {{time}}',
  text: `Beste {{name}},

Een video-afspraak is verplaatst en staat nu voor u ingepland.

Datum: {{date}}
Tijd: {{time}} tot {{endTime}}
Onderwerp: {{topic}}

Deelnemen aan het gesprek:
{{link}}
De link werkt vanaf {{opensAt}} uur. Links uit eerdere e-mails over deze afspraak werken niet meer.

{{municipality}}`,
};

const agentRescheduledEn: MailTemplate = {
  subject: 'Moved: video appointment now on {{date}} at {{time}}',
  text: `Dear {{name}},

A video appointment has been moved and is now planned for you.

Date: {{date}}
Time: {{time}} to {{endTime}}
Topic: {{topic}}

Join the call:
{{link}}
The link works from {{opensAt}}. Links in earlier e-mails about this appointment no longer work.

{{municipality}}`,
};

const agentAnnouncementNl: MailTemplate = {
  subject: 'Nieuwe video-afspraak op {{date}} om {{time}}',
  text: `Beste {{name}},

Er is een video-afspraak voor u ingepland.

Datum: {{date}}
Tijd: {{time}} tot {{endTime}}
Onderwerp: {{topic}}

Deelnemen aan het gesprek:
{{link}}
De link werkt vanaf {{opensAt}} uur. De gegevens van de inwoner ziet u in het dashboard.

{{municipality}}`,
};

const agentAnnouncementEn: MailTemplate = {
  subject: 'New video appointment on {{date}} at {{time}}',
  text: `Dear {{name}},

A video appointment has been planned for you.

Date: {{date}}
Time: {{time}} to {{endTime}}
Topic: {{topic}}

Join the call:
{{link}}
The link works from {{opensAt}}. The resident's details are in the dashboard.

{{municipality}}`,
};

const agentCancellationNl: MailTemplate = {
  subject: 'Geannuleerd: video-afspraak op {{date}} om {{time}}',
  text: `Beste {{name}},

De video-afspraak op {{date}} om {{time}} over "{{topic}}" is geannuleerd. De link voor dit gesprek werkt niet meer.

{{municipality}}`,
};

const agentCancellationEn: MailTemplate = {
  subject: 'Cancelled: video appointment on {{date}} at {{time}}',
  text: `Dear {{name}},

The video appointment on {{date}} at {{time}} about "{{topic}}" has been cancelled. The link for this call no longer works.

{{municipality}}`,
};

/** Default templates per kind and language; the node lets administrators override subject and body. */
export const DEFAULT_TEMPLATES: Readonly<Record<MailKind, Readonly<Record<MailLang, MailTemplate>>>> = {
  'resident-confirmation': { nl: residentConfirmationNl, en: residentConfirmationEn },
  'resident-cancellation': { nl: residentCancellationNl, en: residentCancellationEn },
  'resident-reminder': { nl: residentReminderNl, en: residentReminderEn },
  'resident-rescheduled': { nl: residentRescheduledNl, en: residentRescheduledEn },
  'agent-rescheduled': { nl: agentRescheduledNl, en: agentRescheduledEn },
  'agent-announcement': { nl: agentAnnouncementNl, en: agentAnnouncementEn },
  'agent-cancellation': { nl: agentCancellationNl, en: agentCancellationEn },
};

import { toDateTime } from '../links/window';
import { dateTimeInWords } from '../mail/when';
import { html } from '../http/html';
import type { Lang } from '../http/lang';
import { renderPage, type Branding } from '../http/layout';

const TEXT = {
  nl: {
    invalidTitle: 'Deze link werkt niet (meer)',
    invalidBody:
      'De link is niet geldig. Misschien is hij verlopen, is de afspraak geannuleerd of is de link niet helemaal overgenomen. Controleer of u de hele link uit de e-mail gebruikt.',
    invalidHelp: 'Heeft u een nieuwe afspraak nodig? Maak dan een afspraak via de website van de gemeente.',
    earlyTitle: 'Het gesprek is nog niet geopend',
    earlyBody: (when: string) => `U kunt deelnemen vanaf ${when} uur (Nederlandse tijd).`,
    earlyHelp: 'Open deze link dan opnieuw. Zorg voor een rustige plek en een apparaat met camera en microfoon.',
  },
  en: {
    invalidTitle: 'This link does not work (any more)',
    invalidBody:
      'The link is not valid. It may have expired, the appointment may have been cancelled, or the link was not copied completely. Please check that you use the whole link from the e-mail.',
    invalidHelp: 'Need a new appointment? Please book one on the website of the municipality.',
    earlyTitle: 'The call has not opened yet',
    earlyBody: (when: string) => `You can join from ${when} (Dutch time).`,
    earlyHelp: 'Please open this link again then. Find a quiet place and a device with a camera and microphone.',
  },
};

/**
 * The one page for every link that does not work — unknown, malformed, expired, revoked. Its bytes depend only on
 * the language and branding, never on the token, so the answer cannot tell the cases apart.
 */
export function notValidPage(lang: Lang, branding: Branding): string {
  const t = TEXT[lang];
  return renderPage({
    lang,
    branding,
    title: t.invalidTitle,
    // The language switch must not carry the token: it points at the bare /v/, which shows this same page.
    path: '/v/',
    main: html`<h1 class="utrecht-heading-1">${t.invalidTitle}</h1>
<p class="utrecht-paragraph">${t.invalidBody}</p>
<p class="utrecht-paragraph">${t.invalidHelp}</p>`,
  });
}

/** A valid link opened before its window: when the call opens, in words, in Amsterdam time. */
export function tooEarlyPage(lang: Lang, branding: Branding, opensAtUtc: string, path: string): string {
  const t = TEXT[lang];
  const when = dateTimeInWords(toDateTime(opensAtUtc, 'opensAt'), lang);
  return renderPage({
    lang,
    branding,
    title: t.earlyTitle,
    path,
    main: html`<h1 class="utrecht-heading-1">${t.earlyTitle}</h1>
<p class="utrecht-paragraph">${t.earlyBody(when)}</p>
<p class="utrecht-paragraph">${t.earlyHelp}</p>`,
  });
}

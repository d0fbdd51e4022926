import type { Lang } from '../http/lang';

export const AGENT = {
  nl: {
    title: 'Mijn videoafspraken',
    today: 'Vandaag',
    upcoming: 'Komende dagen',
    loading: 'Afspraken worden geladen…',
    callHeading: 'Gesprek',
    remoteVideo: 'Beeld van de inwoner',
    identificationHeading: 'Identificatie',
    identificationIdle: 'Start een gesprek om de inwoner te laten inloggen.',
    channelWebsite: 'via de website',
    channelPhone: 'via de telefoon (KCC)',
    notFoundTitle: 'Afspraak niet gevonden',
    notFoundText: 'Deze afspraak bestaat niet of is niet voor u ingepland.',
  },
  en: {
    title: 'My video appointments',
    today: 'Today',
    upcoming: 'Coming days',
    loading: 'Loading appointments…',
    callHeading: 'Call',
    remoteVideo: "The resident's video",
    identificationHeading: 'Identification',
    identificationIdle: 'Start a call to let the resident sign in.',
    channelWebsite: 'via the website',
    channelPhone: 'by phone (KCC)',
    notFoundTitle: 'Appointment not found',
    notFoundText: 'This appointment does not exist or is not planned for you.',
  },
} satisfies Record<Lang, Record<string, string>>;

/** Strings the dashboard script needs beside the call's (lib/call-pages/texts.ts CLIENT). */
export const AGENT_CLIENT = {
  nl: {
    join: 'Deelnemen',
    rejoin: 'Terug naar het gesprek',
    residentWaiting: 'Inwoner wacht',
    inCall: 'In gesprek',
    notArrived: 'Inwoner nog niet aanwezig',
    loadFailed: 'De afspraken konden niet worden geladen. Wij proberen het zo opnieuw.',
    residentWaitingNotice: 'Een inwoner wacht op u.',
    none: 'Geen afspraken.',
  },
  en: {
    join: 'Join',
    rejoin: 'Back to the call',
    residentWaiting: 'Resident waiting',
    inCall: 'In call',
    notArrived: 'Resident not here yet',
    loadFailed: 'The appointments could not be loaded. We will try again shortly.',
    residentWaitingNotice: 'A resident is waiting for you.',
    none: 'No appointments.',
  },
} satisfies Record<Lang, Record<string, string>>;

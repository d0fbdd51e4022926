import type { Lang } from '../http/lang';

/**
 * What the agent reads about an identification, in plain words (the dashboard shows it as is). Never a value: these
 * texts go over the live hub and may be logged by a browser's console.
 */
export type AgentNotice =
  | 'requested'
  | 'not_delivered'
  | 'method_chosen'
  | 'cancelled'
  | 'failed'
  | 'verified'
  | 'deleted'
  | 'expired'
  | 'call_ended'
  | 'not_your_appointment'
  | 'unavailable';

const AGENT_TEXTS: Record<Lang, Record<AgentNotice, string>> = {
  nl: {
    requested: 'De inwoner ziet nu de vraag om in te loggen.',
    not_delivered: 'De inwoner is nu niet in het gesprek; de vraag verschijnt zodra de inwoner terug is.',
    method_chosen: 'De inwoner is aan het inloggen.',
    cancelled: 'Identificatie geannuleerd door de inwoner.',
    failed: 'Identificatie niet gelukt, probeer opnieuw.',
    verified: 'Identificatie gelukt. De gegevens staan hieronder.',
    deleted: 'De gegevens zijn verwijderd.',
    expired: 'De bewaartijd is om: de gegevens zijn verwijderd.',
    call_ended: 'Het gesprek is beëindigd: de gegevens zijn verwijderd.',
    not_your_appointment: 'U kunt alleen identificatie vragen in uw eigen gesprekken.',
    unavailable: 'De inlogdienst (ID Contact) is nu niet bereikbaar. Probeer het later opnieuw of vraag een andere manier.',
  },
  en: {
    requested: 'The resident now sees the request to sign in.',
    not_delivered: 'The resident is not in the call right now; the request appears as soon as they are back.',
    method_chosen: 'The resident is signing in.',
    cancelled: 'Identification cancelled by the resident.',
    failed: 'Identification did not succeed, please try again.',
    verified: 'Identification succeeded. The data is shown below.',
    deleted: 'The data has been deleted.',
    expired: 'The retention time is over: the data has been deleted.',
    call_ended: 'The call has ended: the data has been deleted.',
    not_your_appointment: 'You can only ask for identification in your own calls.',
    unavailable: 'The sign-in service (ID Contact) cannot be reached right now. Try again later or ask for another method.',
  },
};

/** Both languages: the hub does not know which language the dashboard is in. */
export function agentText(notice: AgentNotice): { nl: string; en: string } {
  return { nl: AGENT_TEXTS.nl[notice], en: AGENT_TEXTS.en[notice] };
}

/** How a failure reason reads to the agent: a cancellation is named as such, everything else is "try again". */
export function agentNoticeFor(reason: string): AgentNotice {
  return reason === 'cancelled' || reason === 'declined' ? 'cancelled' : 'failed';
}

/** The resident's pop-up (Dutch with the formal "u") and the banner after returning to the call. */
export const RESIDENT_TEXTS = {
  nl: {
    title: 'De medewerker vraagt u om in te loggen',
    intro: 'Zo weet de medewerker zeker met wie hij of zij spreekt. Kies hoe u wilt inloggen.',
    purpose: 'Waarom:',
    data: 'Deze gegevens worden gedeeld met de medewerker:',
    keep: 'De medewerker ziet ze alleen tijdens dit gesprek; daarna worden ze verwijderd.',
    choose: 'Inloggen met',
    away: 'U gaat even naar de inlogpagina. Daarna komt u vanzelf terug in het gesprek.',
    cancel: 'Annuleren',
    cancelled: 'U heeft het inloggen geannuleerd. De medewerker ziet dat.',
    back: 'U bent weer terug in het gesprek.',
    ok: 'Het inloggen is gelukt.',
    waiting: 'Uw gegevens worden nog gecontroleerd. De medewerker ziet zo of het gelukt is.',
    authFailed: 'Het inloggen is niet gelukt. Er zijn geen gegevens gedeeld. Vraag de medewerker om het opnieuw te proberen.',
    unavailable: 'Inloggen is nu niet mogelijk: de inlogdienst is niet bereikbaar. De medewerker weet dit.',
    dialogLabel: 'Inloggen gevraagd',
  },
  en: {
    title: 'The employee asks you to sign in',
    intro: 'This way the employee knows for sure who they are talking to. Choose how you want to sign in.',
    purpose: 'Why:',
    data: 'This data will be shared with the employee:',
    keep: 'The employee sees it only during this call; afterwards it is deleted.',
    choose: 'Sign in with',
    away: 'You will briefly go to the sign-in page. Afterwards you return to the call by yourself.',
    cancel: 'Cancel',
    cancelled: 'You cancelled signing in. The employee will see that.',
    back: 'You are back in the call.',
    ok: 'Signing in succeeded.',
    waiting: 'Your data is still being checked. The employee will see shortly whether it worked.',
    authFailed: 'Signing in did not succeed. No data was shared. Ask the employee to try again.',
    unavailable: 'Signing in is not possible right now: the sign-in service cannot be reached. The employee knows.',
    dialogLabel: 'Sign-in requested',
  },
} satisfies Record<Lang, Record<string, string>>;

/** The processing log page for administrators. */
export const LOG_TEXTS = {
  nl: {
    title: 'Verwerkingenlogboek identificatie',
    intro: 'Wie welke gegevens vroeg, voor welke afspraak en waarom, met welke inlogmethode, en wanneer ze zijn getoond en verwijderd. Waarden staan hier nooit in.',
    filter: 'Afspraak (id)',
    show: 'Tonen',
    at: 'Tijd',
    appointment: 'Afspraak',
    actor: 'Door',
    action: 'Handeling',
    purpose: 'Doel',
    method: 'Methode',
    keys: 'Gegevens (namen)',
    detail: 'Reden',
    trace: 'Trace (Logboek)',
    status: 'Status',
    activity: 'Verwerkingsactiviteit',
    export: 'Exporteren als JSON Lines (Logboek Dataverwerkingen)',
    none: 'Geen regels.',
  },
  en: {
    title: 'Identification processing log',
    intro: 'Who asked for which data, for which appointment and why, with which sign-in method, and when it was shown and deleted. Values are never kept here.',
    filter: 'Appointment (id)',
    show: 'Show',
    at: 'Time',
    appointment: 'Appointment',
    actor: 'By',
    action: 'Action',
    purpose: 'Purpose',
    method: 'Method',
    keys: 'Data (names)',
    detail: 'Reason',
    trace: 'Trace (Logboek)',
    status: 'Status',
    activity: 'Processing activity',
    export: 'Export as JSON Lines (Logboek Dataverwerkingen)',
    none: 'No entries.',
  },
} satisfies Record<Lang, Record<string, string>>;

/**
 * The processing log's codes in words, for the administrator's page: actions, actors that are not a staff account,
 * and the reasons kept in `detail` (finish failures, deletion causes). A code without words is shown as it is.
 */
export const LOG_CODES: Record<Lang, Record<string, string>> = {
  nl: {
    requested: 'Gevraagd',
    method_chosen: 'Inlogmiddel gekozen',
    verified: 'Geverifieerd',
    failed: 'Mislukt',
    shown: 'Getoond aan medewerker',
    deleted: 'Verwijderd',
    expired: 'Verlopen',
    resident: 'Inwoner',
    system: 'Systeem',
    contact_registered: 'Contact geregistreerd in Open Klant',
    partij_looked_up: 'Partij gezocht in Open Klant (op BSN)',
    found: 'gevonden',
    not_found: 'niet gevonden',
    status_0: 'onbekend',
    status_1: 'gelukt',
    status_2: 'fout',
    bsn_gone: 'zonder partij: BSN was al weg',
    partij_not_found: 'zonder partij: niet gevonden',
    actor_not_found: 'zonder medewerker: niet gevonden in Open Klant',
    agent_deleted: 'door de medewerker verwijderd',
    call_ended: 'gesprek beëindigd',
    ttl: 'bewaartijd voorbij',
    declined: 'inwoner weigerde',
    internal: 'interne fout',
    cancelled: 'inwoner brak het inloggen af',
    expired_request: 'vraag verlopen',
    replayed: 'antwoord al gebruikt',
    wrong_session: 'ander gesprek',
    provider_error: 'inlogdienst gaf een fout',
    validation_failed: 'antwoord ongeldig',
    acr_too_low: 'betrouwbaarheidsniveau te laag',
    bsn_invalid: 'BSN ongeldig (elfproef)',
    too_large: 'antwoord te groot',
  },
  en: {
    requested: 'Requested',
    method_chosen: 'Method chosen',
    verified: 'Verified',
    failed: 'Failed',
    shown: 'Shown to the agent',
    deleted: 'Deleted',
    expired: 'Expired',
    resident: 'Resident',
    system: 'System',
    contact_registered: 'Contact registered in Open Klant',
    partij_looked_up: 'Partij searched in Open Klant (by BSN)',
    found: 'found',
    not_found: 'not found',
    status_0: 'unset',
    status_1: 'ok',
    status_2: 'error',
    bsn_gone: 'without partij: the BSN was gone',
    partij_not_found: 'without partij: not found',
    actor_not_found: 'without employee: not found in Open Klant',
    agent_deleted: 'deleted by the agent',
    call_ended: 'call ended',
    ttl: 'retention time over',
    declined: 'resident declined',
    internal: 'internal error',
    cancelled: 'resident cancelled the sign-in',
    expired_request: 'request expired',
    replayed: 'answer already used',
    wrong_session: 'another call',
    provider_error: 'sign-in service returned an error',
    validation_failed: 'answer invalid',
    acr_too_low: 'level of assurance too low',
    bsn_invalid: 'BSN invalid (elfproef)',
    too_large: 'answer too large',
  },
};

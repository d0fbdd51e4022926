/**
 * Texts for booking error codes, Dutch and English. Code returns codes (field errors such as 'email.invalid' and
 * error codes such as 'slot_taken'); pages and the JSON API pick the language here, so the domain has no UI text.
 */
export type Lang = 'nl' | 'en';

const TEXT: Record<string, { nl: string; en: string }> = {
  // Whole-request errors (UserError.code)
  invalid_input: { nl: 'Controleer de gemarkeerde velden.', en: 'Please check the marked fields.' },
  invalid_query: { nl: 'Ongeldige periode opgegeven.', en: 'Invalid period requested.' },
  slot_taken: {
    nl: 'Dit tijdstip is helaas net vergeven. Kies een ander tijdstip.',
    en: 'Sorry, this time has just been taken. Please choose another time.',
  },
  slot_off_grid: { nl: 'Dit tijdstip is geen beschikbaar tijdslot.', en: 'This time is not an available slot.' },
  slot_past: { nl: 'Dit tijdstip ligt in het verleden.', en: 'This time is in the past.' },
  slot_too_soon: { nl: 'Dit tijdstip is te kort van tevoren.', en: 'This time is too soon to book.' },
  slot_beyond_horizon: { nl: 'Dit tijdstip ligt te ver in de toekomst.', en: 'This time is too far ahead.' },
  slot_closed: { nl: 'Op deze dag zijn wij gesloten.', en: 'We are closed on this day.' },
  link_invalid: {
    nl: 'Deze link is ongeldig of verlopen.',
    en: 'This link is invalid or has expired.',
  },
  same_slot: { nl: 'Dit is al het tijdstip van uw afspraak. Kies een ander tijdstip.', en: 'This is already the time of your appointment. Please choose another time.' },
  not_found: { nl: 'Afspraak niet gevonden.', en: 'Appointment not found.' },
  already_cancelled: { nl: 'Deze afspraak is al geannuleerd.', en: 'This appointment has already been cancelled.' },
  appointment_over: { nl: 'Deze afspraak is al voorbij.', en: 'This appointment is already over.' },
  store_unavailable: {
    nl: 'Het afsprakensysteem is even niet beschikbaar. Er is niets vastgelegd. Probeert u het over een paar minuten opnieuw.',
    en: 'The appointment system is briefly unavailable. Nothing was saved. Please try again in a few minutes.',
  },

  // Field errors (UserError.fields values)
  'body.invalid': { nl: 'Het formulier is ongeldig verstuurd.', en: 'The form was sent in an invalid way.' },
  'field.unknown': { nl: 'Onbekend veld.', en: 'Unknown field.' },
  'field.not_text': { nl: 'Dit veld moet tekst zijn.', en: 'This field must be text.' },
  'start.required': { nl: 'Kies een datum en tijd.', en: 'Please choose a date and time.' },
  'start.invalid': { nl: 'Deze datum of tijd bestaat niet.', en: 'This date or time does not exist.' },
  'start.offset': {
    nl: 'De tijdzone van dit tijdstip klopt niet (Nederlandse tijd verwacht).',
    en: 'The time zone of this time is wrong (Dutch time expected).',
  },
  'start.ambiguous': {
    nl: 'Geef óf een tijdstip óf een datum en tijd op, niet allebei.',
    en: 'Give either a start or a date and time, not both.',
  },
  'start.nonexistent': {
    nl: 'Deze tijd bestaat niet op deze dag (zomertijd).',
    en: 'This time does not exist on this day (daylight saving time).',
  },
  'query.to_before_from': { nl: 'De einddatum ligt vóór de begindatum.', en: 'The end date is before the start date.' },
  'query.too_long': { nl: 'Vraag hoogstens 62 dagen tegelijk op.', en: 'Ask for at most 62 days at a time.' },
  'date.invalid': { nl: 'Deze datum bestaat niet.', en: 'This date does not exist.' },
  'time.invalid': { nl: 'Deze tijd bestaat niet.', en: 'This time does not exist.' },
  'time.required': { nl: 'Kies een tijd.', en: 'Please choose a time.' },
  'name.required': { nl: 'Vul uw naam in.', en: 'Please enter your name.' },
  'name.too_long': { nl: 'Uw naam mag maximaal 100 tekens lang zijn.', en: 'Your name can be at most 100 characters.' },
  'name.invalid_chars': {
    nl: 'Uw naam bevat tekens die niet zijn toegestaan.',
    en: 'Your name contains characters that are not allowed.',
  },
  'email.required': { nl: 'Vul uw e-mailadres in.', en: 'Please enter your e-mail address.' },
  'email.invalid': {
    nl: 'Vul een geldig e-mailadres in, bijvoorbeeld naam@voorbeeld.nl.',
    en: 'Please enter a valid e-mail address, for example name@example.com.',
  },
  'email.multiple': { nl: 'Vul één e-mailadres in.', en: 'Please enter a single e-mail address.' },
  'email.too_long': { nl: 'Dit e-mailadres is te lang.', en: 'This e-mail address is too long.' },
  'phone.required': { nl: 'Vul uw telefoonnummer in.', en: 'Please enter your phone number.' },
  'phone.invalid': {
    nl: 'Vul een geldig telefoonnummer in, bijvoorbeeld 06 12345678.',
    en: 'Please enter a valid phone number, for example +31 6 12345678.',
  },
  'phone.required_for_sms': {
    nl: 'Vul uw mobiele nummer in om een sms te ontvangen.',
    en: 'Please enter your mobile number to receive a text message.',
  },
  'phone.landline': {
    nl: 'Dit is een vast nummer. Een sms kan alleen naar een Nederlands mobiel nummer, bijvoorbeeld 06 12345678.',
    en: 'This is a landline number. A text message can only go to a Dutch mobile number, for example +31 6 12345678.',
  },
  'phone.foreign': {
    nl: 'Een sms kan alleen naar een Nederlands mobiel nummer (06). Buitenlandse nummers zijn niet mogelijk.',
    en: 'A text message can only go to a Dutch mobile number (+31 6). Numbers from other countries are not possible.',
  },
  'phone.not_mobile': {
    nl: 'Dit nummer kan geen sms ontvangen. Vul een mobiel nummer in dat met 06 begint.',
    en: 'This number cannot receive text messages. Please enter a mobile number starting with +31 6.',
  },
  'phone.too_short': {
    nl: 'Dit nummer is te kort. Een mobiel nummer is 06 met 8 cijfers, bijvoorbeeld 06 12345678.',
    en: 'This number is too short. A Dutch mobile number is 06 followed by 8 digits, for example +31 6 12345678.',
  },
  'phone.too_long': {
    nl: 'Dit nummer is te lang. Een mobiel nummer is 06 met 8 cijfers, bijvoorbeeld 06 12345678.',
    en: 'This number is too long. A Dutch mobile number is 06 followed by 8 digits, for example +31 6 12345678.',
  },
  'sms.invalid': { nl: 'Kies of u een sms wilt ontvangen.', en: 'Please choose whether you want a text message.' },
  'remarks.too_long': { nl: 'De opmerking mag maximaal 1000 tekens lang zijn.', en: 'Remarks can be at most 1000 characters.' },
  'remarks.invalid_chars': {
    nl: 'De opmerking bevat tekens die niet zijn toegestaan.',
    en: 'The remarks contain characters that are not allowed.',
  },
  'topic.unknown': { nl: 'Kies een onderwerp uit de lijst.', en: 'Please choose a topic from the list.' },
};

/** The text for a code; an unknown code falls back to a generic text rather than echoing the code. */
export function messageFor(code: string, lang: Lang = 'nl'): string {
  return (TEXT[code] ?? TEXT.invalid_input)[lang];
}

/** Field errors (field -> code) translated to field -> text. */
export function fieldMessages(fields: Readonly<Record<string, string>>, lang: Lang = 'nl'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [field, code] of Object.entries(fields)) out[field] = messageFor(code, lang);
  return out;
}

/** Whether a text exists for the code (tests use this to prove every code the code returns is covered). */
export function hasMessage(code: string): boolean {
  return Object.prototype.hasOwnProperty.call(TEXT, code);
}

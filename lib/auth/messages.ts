import type { FinishFailure } from './oidc';

/**
 * What the resident (and the agent) read when an identification did not succeed, per reason code. Plain language,
 * no technical detail and never a value: the reason code itself goes to the processing log.
 */
const TEXTS: Record<FinishFailure, { nl: string; en: string }> = {
  cancelled: { nl: 'U heeft het inloggen afgebroken. Er zijn geen gegevens gedeeld.', en: 'You cancelled the sign-in. No data was shared.' },
  expired: { nl: 'Deze inlogpoging is verlopen. Vraag de medewerker om het opnieuw te proberen.', en: 'This sign-in attempt has expired. Ask the employee to try again.' },
  replayed: { nl: 'Deze inlogpoging is al gebruikt. Vraag de medewerker om het opnieuw te proberen.', en: 'This sign-in attempt was already used. Ask the employee to try again.' },
  wrong_session: { nl: 'Deze inlogpoging hoort bij een ander gesprek. Ga terug naar uw eigen gesprek.', en: 'This sign-in attempt belongs to another call. Go back to your own call.' },
  provider_error: { nl: 'De inlogdienst is nu niet bereikbaar. Probeer het later opnieuw of kies een andere manier.', en: 'The sign-in service cannot be reached right now. Try again later or choose another method.' },
  validation_failed: { nl: 'Het antwoord van de inlogdienst kon niet worden gecontroleerd. Er zijn geen gegevens getoond.', en: 'The answer of the sign-in service could not be verified. No data was shown.' },
  acr_too_low: { nl: 'U heeft ingelogd op een te laag betrouwbaarheidsniveau. Log opnieuw in met een hoger niveau (bijvoorbeeld met de ID-check in de DigiD app).', en: 'You signed in at too low a level of assurance. Sign in again at a higher level (for example with the ID check in the DigiD app).' },
  bsn_invalid: { nl: 'Het ontvangen burgerservicenummer is niet geldig. Er zijn geen gegevens getoond.', en: 'The citizen service number received is not valid. No data was shown.' },
  too_large: { nl: 'Het antwoord van de inlogdienst was te groot en is geweigerd. Er zijn geen gegevens getoond.', en: 'The answer of the sign-in service was too large and was refused. No data was shown.' },
};

export function finishFailureText(reason: FinishFailure, lang: 'nl' | 'en' = 'nl'): string {
  return (TEXTS[reason] ?? TEXTS.validation_failed)[lang];
}

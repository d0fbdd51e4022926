import { createHmac } from 'node:crypto';
import { deriveKey } from '../secrets';

/**
 * The data subject of a processing as the Logboek Dataverwerkingen standard (Logius, "Component: Logboek") asks for it:
 * `dpl.core.data_subject_id` is "the unique identifying code of the data subject; encrypted", with
 * `dpl.core.data_subject_id_type` naming the kind of number (`BSN`). The standard recommends pseudonymisation and leaves
 * the method to the organisation (its decision "Pseudonimiseren data", 2024-12-04), and pseudonyms need not leave it.
 *
 * Our choice: HMAC-SHA256 of the BSN under a key derived from this installation's credential secret (the same on every
 * instance): the same person gets the same pseudonym in every record, so the gemeente can answer an inzage request by
 * computing the pseudonym of the BSN the resident gives (`dataSubjectId`), while the log itself — on disk, in an export
 * — holds no BSN and cannot be turned back into one without the key (a plain hash of a 9-digit number could: there are
 * only 10^9 of them).
 */

export const DATA_SUBJECT_ID_TYPE = 'BSN';

const BSN_RE = /^\d{9}$/;

/** The pseudonym (64 lower-case hex) of a BSN under this installation's secret; undefined for anything not a BSN. */
export function dataSubjectId(secret: string, bsn: string): string | undefined {
  if (!BSN_RE.test(bsn)) return undefined;
  return createHmac('sha256', deriveKey(secret, 'logboek-data-subject')).update(`bsn:${bsn}`).digest('hex');
}

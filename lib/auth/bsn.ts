/**
 * The BSN (burgerservicenummer) check: nine digits whose weighted sum (weights 9..2 and -1 for the last digit) is a
 * multiple of 11 — the "elfproef". 000000000 passes the arithmetic but is never issued, so it is refused too.
 * A typo or a forged claim in a broker's answer is caught here before an agent ever sees it.
 */
export function isValidBsn(value: unknown): value is string {
  if (typeof value !== 'string' || !/^[0-9]{9}$/.test(value)) return false;
  if (value === '000000000') return false;
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += Number(value[i]) * (9 - i);
  sum -= Number(value[8]);
  return sum % 11 === 0;
}

import { strict as assert } from 'node:assert';
import { mapClaims } from '../../../lib/auth/claims';
import type { ClaimMapping } from '../../../lib/auth/method';

const mapping: ClaimMapping[] = [
  { claim: 'bsn', key: 'bsn', labelNl: 'BSN', labelEn: 'BSN', kind: 'bsn' },
  { claim: 'birthdate', key: 'birthdate', labelNl: 'Geboortedatum', labelEn: 'Date of birth', kind: 'date' },
  { claim: 'urn:nl:name', key: 'name', labelNl: 'Naam', labelEn: 'Name', kind: 'text' },
];

describe('auth/claims mapping', () => {
  it('keeps only listed claims under our keys and labels, in mapping order', () => {
    const r = mapClaims({ sub: 'x', 'urn:nl:name': 'Jan', bsn: '999993653', email: 'jan@example.org', birthdate: '1980-01-01' }, mapping);
    assert.deepEqual(r, {
      ok: true,
      missing: [],
      attributes: [
        { key: 'bsn', labelNl: 'BSN', labelEn: 'BSN', value: '999993653' },
        { key: 'birthdate', labelNl: 'Geboortedatum', labelEn: 'Date of birth', value: '1980-01-01' },
        { key: 'name', labelNl: 'Naam', labelEn: 'Name', value: 'Jan' },
      ],
    });
  });
  it('reports absent listed claims by key', () => {
    const r = mapClaims({ bsn: '999993653' }, mapping);
    assert.ok(r.ok);
    assert.deepEqual(r.missing, ['birthdate', 'name']);
  });
  it('does not read inherited properties', () => {
    const claims = Object.create({ bsn: '999993653' }) as Record<string, unknown>;
    const r = mapClaims(claims, mapping);
    assert.ok(r.ok && r.attributes.length === 0);
  });
  it('refuses a BSN failing the elfproef, or given as a number, with the key only', () => {
    for (const bsn of ['123456789', '000000000', 999993653, '99999365']) {
      const r = mapClaims({ bsn }, mapping);
      assert.deepEqual(r, { ok: false, reason: 'bsn_invalid', key: 'bsn' });
    }
  });
  it('refuses impossible dates and wrong shapes', () => {
    for (const birthdate of ['1980-02-30', '01-01-1980', '1980-01-01T00:00:00Z', 19800101, {}]) {
      assert.deepEqual(mapClaims({ birthdate }, mapping), { ok: false, reason: 'validation_failed', key: 'birthdate' });
    }
    assert.deepEqual(mapClaims({ 'urn:nl:name': { first: 'Jan' } }, mapping), { ok: false, reason: 'validation_failed', key: 'name' });
    assert.deepEqual(mapClaims({ 'urn:nl:name': 'Jan\u001b[31m' }, mapping), { ok: false, reason: 'validation_failed', key: 'name' });
  });
  it('caps one value and the whole answer', () => {
    assert.deepEqual(mapClaims({ 'urn:nl:name': 'x'.repeat(257) }, mapping), { ok: false, reason: 'too_large', key: 'name' });
    assert.deepEqual(mapClaims({ bsn: '999993653', junk: 'y'.repeat(40_000) }, mapping), { ok: false, reason: 'too_large' });
    assert.equal(mapClaims({ 'urn:nl:name': 'x'.repeat(256) }, mapping).ok, true);
  });
});

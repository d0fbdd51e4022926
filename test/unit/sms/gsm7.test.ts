import assert from 'node:assert/strict';
import { countSegments, isGsm7, toGsm7 } from '../../../lib/sms/gsm7';

describe('SMS encoding and segments (3GPP TS 23.038 / 23.040)', () => {
  it('knows the 127 characters of the default alphabet and the 10 of the extension table, nothing else', () => {
    let basic = 0;
    let extension = 0;
    for (let cp = 0; cp < 0x3000; cp++) {
      const ch = String.fromCodePoint(cp);
      if (!isGsm7(ch)) continue;
      const c = countSegments(ch);
      if (c.units === 1) basic++;
      else if (c.units === 2) extension++;
    }
    assert.equal(basic, 127);
    assert.equal(extension, 10);
    assert.equal(isGsm7('Gemeente Utrecht: €5 [ok] ~ {x} | \\ ^'), true);
    assert.equal(isGsm7('Coöperatie'), true, 'ö is in the default alphabet');
    assert.equal(isGsm7('Zoë'), false, 'ë is not');
    assert.equal(isGsm7('ç'), false, 'only the capital Ç is in GSM-7');
  });

  it('one segment holds 160 septets; 161 needs two parts of 153', () => {
    assert.deepEqual(countSegments(''), { encoding: 'GSM-7', units: 0, segments: 0, perSegment: 160 });
    assert.deepEqual(countSegments('a'.repeat(160)), { encoding: 'GSM-7', units: 160, segments: 1, perSegment: 160 });
    assert.deepEqual(countSegments('a'.repeat(161)), { encoding: 'GSM-7', units: 161, segments: 2, perSegment: 153 });
    assert.equal(countSegments('a'.repeat(306)).segments, 2);
    assert.equal(countSegments('a'.repeat(307)).segments, 3);
  });

  it('counts an extension character as two septets and never splits its escape pair over two parts', () => {
    assert.equal(countSegments('€'.repeat(80)).units, 160);
    assert.equal(countSegments('€'.repeat(80)).segments, 1);
    assert.equal(countSegments(`${'€'.repeat(80)}a`).segments, 2);
    // 152 septets, then a two-septet character: it does not fit the first part's last septet, so it moves on.
    const text = `${'a'.repeat(152)}€${'a'.repeat(152)}`;
    assert.equal(countSegments(text).units, 306);
    assert.equal(countSegments(text).segments, 3, '306 septets would fill two parts of 153 exactly; the unsplit pair needs a third');
    assert.equal(countSegments(`${'a'.repeat(152)}€${'a'.repeat(151)}`).segments, 2);
  });

  it('falls back to UCS-2 for one character GSM-7 lacks: 70 in one part, 67 per part after that', () => {
    assert.deepEqual(countSegments(`Zoë${'a'.repeat(67)}`), { encoding: 'UCS-2', units: 70, segments: 1, perSegment: 70 });
    assert.deepEqual(countSegments(`Zoë${'a'.repeat(68)}`), { encoding: 'UCS-2', units: 71, segments: 2, perSegment: 67 });
  });

  it('counts an emoji as two UCS-2 units and keeps its surrogate pair in one part', () => {
    assert.equal(countSegments('🙂').units, 2);
    assert.equal(countSegments('🙂'.repeat(35)).segments, 1);
    // 66 units, then a pair that would straddle the first part's last unit.
    const text = `${'b'.repeat(66)}🙂${'b'.repeat(66)}`;
    assert.equal(countSegments(text).units, 134);
    assert.equal(countSegments(text).segments, 3);
  });

  it('replaces typographic characters and accents GSM-7 lacks, keeps the ones it has, leaves emoji', () => {
    assert.equal(toGsm7('‘Zoë’ – “Citroën” … Curaçao\u00a0x'), '\'Zoe\' - "Citroen" ... Curacao x');
    assert.equal(toGsm7('café à Öss, Ñ'), 'café à Öss, Ñ');
    assert.equal(toGsm7('Zoë 🙂'), 'Zoe 🙂');
    assert.equal(isGsm7(toGsm7('Gemeente Súdwest-Fryslân, ’s-Hertogenbosch')), true);
  });
});

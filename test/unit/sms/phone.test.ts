import assert from 'node:assert/strict';
import { fieldMessages, hasMessage } from '../../../lib/appointments/messages';
import { isDutchMobileE164, nationalMobile, parseDutchMobile } from '../../../lib/sms/phone';

describe('Dutch mobile numbers for SMS', () => {
  it('normalises every way people type a Dutch mobile number to E.164', () => {
    const typed = [
      '06 12345678', '06-12345678', '0612345678', '06 1234 5678', '06.12.34.56.78', '(06) 12345678', ' 06 12 34 56 78 ',
      '+31 6 12345678', '+31 6 1234 5678', '+31612345678', '+31 (0)6 12345678', '+31(0)612345678', '0031 6 12345678',
      '0031612345678', '0031 (0)6 12345678', '31612345678', '06\u00a012345678',
    ];
    for (const t of typed) assert.deepEqual(parseDutchMobile(t), { ok: true, e164: '+31612345678', national: '06 12345678' }, t);
    assert.deepEqual(parseDutchMobile('06-87654321'), { ok: true, e164: '+31687654321', national: '06 87654321' });
  });

  it('refuses landlines and service numbers with their own reason', () => {
    for (const t of ['010 1234567', '020-1234567', '+31 20 1234567', '0031 70 1234567', '085 1234567']) assert.deepEqual(parseDutchMobile(t), { ok: false, problem: 'landline' }, t);
    for (const t of ['088 1234567', '0900 1234567', '097012345678', '066 1234567', '06 61234567']) assert.deepEqual(parseDutchMobile(t), { ok: false, problem: 'not_mobile' }, t);
  });

  it('refuses foreign numbers, also mobile ones', () => {
    for (const t of ['+32 470 12 34 56', '+49 1512 3456789', '0044 7911 123456', '+1 415 555 2671']) assert.deepEqual(parseDutchMobile(t), { ok: false, problem: 'foreign' }, t);
  });

  it('says too short or too long for a mobile number with a digit too few or too many, and refuses junk', () => {
    for (const t of ['061234567', '+31 6 12 34 56 7', '112', '14 020', '0800 1234']) assert.equal((parseDutchMobile(t) as { problem: string }).problem, 'too_short', t);
    for (const t of ['061234567890', '+316123456789']) assert.equal((parseDutchMobile(t) as { problem: string }).problem, 'too_long', t);
    for (const t of ['', '   ', '+', '06-CALLME', 'tel:0612345678', '06 12345678 ext 2', '0612345678; DROP', '06 9123 4567', '+31 6 12345678 +31 6 12345678', '0'.repeat(40)]) {
      assert.deepEqual(parseDutchMobile(t), { ok: false, problem: 'invalid' }, t);
    }
    for (const v of [undefined, null, 612345678, ['0612345678'], { phone: '0612345678' }]) assert.deepEqual(parseDutchMobile(v), { ok: false, problem: 'invalid' });
  });

  it('has a Dutch and an English text for every reason, naming a mobile example', () => {
    for (const p of ['invalid', 'too_short', 'too_long', 'foreign', 'landline', 'not_mobile', 'required_for_sms']) {
      assert.ok(hasMessage(`phone.${p}`), p);
      const nl = fieldMessages({ phone: `phone.${p}` }, 'nl').phone;
      const en = fieldMessages({ phone: `phone.${p}` }, 'en').phone;
      assert.notEqual(nl, en);
      assert.match(nl, /06|mobiel/);
    }
    assert.match(fieldMessages({ phone: 'phone.landline' }, 'nl').phone, /vast nummer/);
    assert.match(fieldMessages({ phone: 'phone.landline' }, 'en').phone, /landline/);
  });

  it('recognises a stored number and writes it back as people do', () => {
    assert.equal(isDutchMobileE164('+31612345678'), true);
    for (const v of ['0612345678', '+31201234567', '+3161234567', '+316123456789', '+32470123456', 31612345678]) assert.equal(isDutchMobileE164(v), false, String(v));
    assert.equal(nationalMobile('+31612345678'), '06 12345678');
  });
});

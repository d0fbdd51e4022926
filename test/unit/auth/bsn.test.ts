import { strict as assert } from 'node:assert';
import { isValidBsn } from '../../../lib/auth/bsn';

describe('auth/bsn elfproef', () => {
  it('accepts valid test BSNs', () => {
    for (const b of ['999993653', '999990019', '111222333']) assert.equal(isValidBsn(b), true, b);
  });
  it('refuses 123456789, 000000000 and one-digit typos', () => {
    for (const b of ['123456789', '000000000', '999993654', '999993663']) assert.equal(isValidBsn(b), false, b);
  });
  it('refuses anything that is not exactly nine ASCII digits', () => {
    for (const b of [999993653, '99999365', '9999936530', ' 999993653', '999993653\n', '99999365a', '９９９９９３６５３', '', null, undefined, {}, ['999993653']]) {
      assert.equal(isValidBsn(b), false, String(b));
    }
  });
});

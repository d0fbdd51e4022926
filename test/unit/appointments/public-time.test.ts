import { strict as assert } from 'node:assert';
import { amsterdamOffsetMinutes, publicIsoFromMillis } from '../../../lib/appointments/public-time';
import { toPublicIso } from '../../../lib/time';

describe('appointments/public-time', () => {
  it('formats exactly like toPublicIso, every 15 minutes around both 2026 DST changes', () => {
    for (const around of ['2026-03-29T01:00:00.000Z', '2026-10-25T01:00:00.000Z']) {
      const centre = Date.parse(around);
      for (let ms = centre - 26 * 3600_000; ms <= centre + 26 * 3600_000; ms += 15 * 60_000) {
        const utc = new Date(ms).toISOString();
        assert.equal(publicIsoFromMillis(ms), toPublicIso(utc), utc);
      }
    }
    assert.equal(publicIsoFromMillis(Date.parse('2026-03-29T00:59:59.999Z')), '2026-03-29T01:59:59.999+01:00');
    assert.equal(publicIsoFromMillis(Date.parse('2026-03-29T01:00:00.000Z')), '2026-03-29T03:00:00.000+02:00');
    assert.equal(amsterdamOffsetMinutes(Date.parse('2026-10-25T00:59:59.999Z')), 120);
    assert.equal(amsterdamOffsetMinutes(Date.parse('2026-10-25T01:00:00.000Z')), 60);
  });

  it('matches toPublicIso on random instants over several years', () => {
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const from = Date.parse('2024-01-01T00:00:00Z');
    const span = Date.parse('2031-01-01T00:00:00Z') - from;
    for (let i = 0; i < 2000; i++) {
      const ms = from + Math.floor(rand() * span);
      assert.equal(publicIsoFromMillis(ms), toPublicIso(new Date(ms).toISOString()));
    }
  });
});

import { strict as assert } from 'node:assert';
import { aggregate, percentages } from '../../../lib/statistics/aggregate';
import { parseQualityReport } from '../../../lib/statistics/quality-route';
import type { StatisticsFacts } from '../../../lib/statistics/types';
import { forEachEngine, type TestStore } from '../../support/engines';
import { newAppointment } from './support';

const NONE: StatisticsFacts = { bookings: [], cancellations: [], moved: [], outcomes: [], waits: [], identifications: [], quality: [] };

describe('connection quality in the statistics: aggregate milliseconds per side, shares per period', () => {
  it('shares per period and side add up to 100 and count the calls that reported', () => {
    const at = '2026-12-01T09:00:00.000Z';
    const s = aggregate(
      {
        ...NONE,
        quality: [
          { at, side: 'resident', goodMs: 600_000, poorMs: 0, noneMs: 0 },
          { at, side: 'resident', goodMs: 100_000, poorMs: 200_000, noneMs: 100_000 },
          { at, side: 'agent', goodMs: 1, poorMs: 1, noneMs: 1 },
        ],
      },
      'day',
    );
    assert.deepEqual(s.quality, [
      { period: '2026-12-01', side: 'agent', calls: 1, goodPct: 34, poorPct: 33, nonePct: 33 },
      { period: '2026-12-01', side: 'resident', calls: 2, goodPct: 70, poorPct: 20, nonePct: 10 },
    ]);
    assert.deepEqual(percentages([1, 1, 1], 3), [34, 33, 33]);
    assert.deepEqual(percentages([2, 0, 0], 2), [100, 0, 0]);
  });

  it('a page report is three whole numbers of milliseconds; anything else is refused by name', () => {
    assert.deepEqual(parseQualityReport({ good: 1000, poor: 2, none: 0 }), { ok: true, report: { goodMs: 1000, poorMs: 2, noneMs: 0 } });
    assert.deepEqual(parseQualityReport({ none: 5 }), { ok: true, report: { goodMs: 0, poorMs: 0, noneMs: 5 } });
    const refused: [unknown, RegExp][] = [
      [null, /^body:/],
      [[1, 2, 3], /^body:/],
      ['good', /^body:/],
      [{}, /more than 0/],
      [{ good: -1 }, /^good:/],
      [{ good: 1.5 }, /^good:/],
      [{ poor: '100' }, /^poor:/],
      [{ none: 13 * 3600_000 }, /^none:/],
      [{ good: 7 * 3600_000, poor: 6 * 3600_000 }, /at most/],
      [{ good: 1, ip: '10.0.0.1' }, /^ip: unknown field/],
    ];
    for (const [body, message] of refused) {
      const r = parseQualityReport(body);
      assert.ok(!r.ok && message.test(r.message), JSON.stringify(body));
    }
  });
});

forEachEngine('connection quality in the store', (engine) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await engine.open();
  });
  afterEach(() => t.close());

  it('adds reports up per appointment and side and gives them to the statistics by the appointment\'s start', async () => {
    const s = t.store;
    const a = (
      await s.appointments.create(newAppointment(1, '2026-12-01T09:00:00.000Z', '2026-12-01T09:30:00.000Z', {}, '2026-11-30T08:00:00.000Z'), {
        candidates: ['x'],
        dayStartUtc: '2026-11-30T23:00:00.000Z',
        dayEndUtc: '2026-12-01T23:00:00.000Z',
        bufferMinutes: 0,
        idempotentSinceUtc: '2026-11-30T08:00:00.000Z',
      })
    ).appointment;
    await s.statistics.recordQuality(a.id, 'resident', { goodMs: 60_000, poorMs: 5_000, noneMs: 1_000 }, '2026-12-01T09:20:00.000Z');
    await s.statistics.recordQuality(a.id, 'resident', { goodMs: 10_000, poorMs: 0, noneMs: 0 }, '2026-12-01T09:25:00.000Z');
    await s.statistics.recordQuality(a.id, 'agent', { goodMs: 1, poorMs: 2, noneMs: 3 }, '2026-12-01T09:25:00.000Z');
    const facts = await s.statistics.facts('2026-12-01T00:00:00.000Z', '2026-12-02T00:00:00.000Z');
    assert.deepEqual(
      facts.quality.sort((x, y) => (x.side < y.side ? -1 : 1)).map((q) => ({ ...q, at: new Date(q.at).toISOString() })),
      [
        { at: '2026-12-01T09:00:00.000Z', side: 'agent', goodMs: 1, poorMs: 2, noneMs: 3 },
        { at: '2026-12-01T09:00:00.000Z', side: 'resident', goodMs: 70_000, poorMs: 5_000, noneMs: 1_000 },
      ],
    );
    assert.deepEqual((await s.statistics.facts('2026-12-02T00:00:00.000Z', '2026-12-03T00:00:00.000Z')).quality, []);
  });
});

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { startRuntime, tempDir } from '../support/runtime';

/** A flows file with one resident booking node and generous limits, so the test measures durability, not limits. */
function writeFlows(dataDir: string): void {
  const day = [{ from: '08:00', to: '18:00' }];
  const flows = [
    { id: 't1', type: 'tab', label: 'durability' },
    { id: 'set1', type: 'idv-settings', municipality: 'Gemeente Test', fromAddress: 'video@test.example', attributeTtlMinutes: 15 },
    {
      id: 'sch1',
      type: 'idv-schedule',
      openingHours: { mon: day, tue: day, wed: day, thu: day, fri: day, sat: day, sun: day },
      slotMinutes: 10,
      minNoticeMinutes: 0,
      horizonDays: 60,
      dutchHolidays: false,
      agents: Array.from({ length: 4 }, (_, i) => ({ username: `agent${i + 1}`, displayName: `Agent ${i + 1}` })),
    },
    { id: 'book1', type: 'idv-book-appointment', z: 't1', schedule: 'sch1', settings: 'set1', mode: 'resident', path: '/afspraak', topics: ['Paspoort aanvragen'], phone: 'off', limitPerIp: 100000, limitPerEmail: 100000, wires: [[]] },
  ];
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(path.join(dataDir, 'flows.json'), JSON.stringify(flows));
}

describe('durability: SIGTERM during a stream of bookings', function () {
  this.timeout(120_000);

  it('loses no booking that was confirmed with 201, and stops cleanly', async () => {
    const dataDir = tempDir();
    writeFlows(dataDir);
    const rt = await startRuntime({ dataDir });
    const from = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const to = new Date(Date.now() + 20 * 86_400_000).toISOString().slice(0, 10);
    const slotsRes = await fetch(`${rt.url}/afspraak/slots?from=${from}&to=${to}`);
    assert.equal(slotsRes.status, 200);
    const slots = (await slotsRes.json()) as { start: string; available: number }[];
    const starts = slots.flatMap((s) => Array.from({ length: s.available }, () => s.start));
    assert.ok(starts.length > 400, `enough free places (${starts.length})`);

    const confirmed: string[] = [];
    let next = 0;
    let signalled = false;
    const worker = async (w: number) => {
      while (next < starts.length) {
        const i = next++;
        try {
          const res = await fetch(`${rt.url}/afspraak`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', accept: 'application/json' },
            body: JSON.stringify({ start: starts[i], name: `Inwoner ${i}`, email: `inwoner${i}.w${w}@example.nl` }),
          });
          if (res.status === 201) confirmed.push(((await res.json()) as { id: string }).id);
          else await res.arrayBuffer();
        } catch {
          // Connection refused or reset: the runtime is stopping; this request was never confirmed.
          if (signalled) return;
        }
        if (!signalled && confirmed.length >= 150) {
          signalled = true;
          rt.proc.kill('SIGTERM');
        }
      }
    };
    const exit = new Promise<number | null>((resolve) => rt.proc.once('exit', (code) => resolve(code)));
    await Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
    const code = await exit;
    assert.equal(code, 0, rt.output());
    assert.ok(signalled, 'the runtime was signalled mid-stream');

    const db = new Database(path.join(dataDir, 'idvideo.sqlite'), { readonly: true });
    const stored = new Set((db.prepare("SELECT id FROM appointments WHERE status = 'booked'").all() as { id: string }[]).map((r) => r.id));
    db.close();
    const lost = confirmed.filter((id) => !stored.has(id));
    assert.deepEqual(lost, [], `${lost.length} of ${confirmed.length} confirmed bookings lost`);
    assert.ok(confirmed.length >= 150);

    // And the runtime starts again on the same data with every booking there.
    const again = await startRuntime({ dataDir });
    const after = await fetch(`${again.url}/afspraak/slots?from=${from}&to=${to}`);
    const left = ((await after.json()) as { available: number }[]).reduce((n, s) => n + s.available, 0);
    assert.equal(left, starts.length - stored.size);
    await again.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
});

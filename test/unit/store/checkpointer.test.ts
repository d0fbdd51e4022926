import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createSqliteStore, sqliteCheckpointerOf, sqliteHandleOf } from '../../../lib/store/sqlite';
import type { Store } from '../../../lib/store/store';

/** Polls `cond` every 20 ms until it holds (bounded: 10 s), so a busy machine only makes the test slower. */
async function until(what: string, cond: () => boolean): Promise<void> {
  const end = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('SQLite WAL checkpoints on a thread of their own (lib/store/sqlite/checkpointer.ts)', function () {
  this.timeout(30_000);
  let dir: string;
  let file: string;
  let store: Store | undefined;
  const fallbacks: string[] = [];
  const open = (startAtBytes: number) =>
    (store = createSqliteStore(file, { checkpoints: { everyMs: 20, startAtBytes, onFallback: (why) => fallbacks.push(why) } }));
  /** About `kib` KiB of new pages in the WAL, through the store's own connection. */
  const write = (s: Store, kib: number, tag: string) => {
    const db = sqliteHandleOf(s)!;
    const put = db.prepare('INSERT INTO kv (key, value) VALUES (?, ?)');
    db.transaction(() => {
      for (let i = 0; i < kib / 4; i++) put.run(`${tag}-${i}`, 'x'.repeat(4000));
    })();
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idv-checkpointer-'));
    file = path.join(dir, 'idvideo.sqlite');
    fallbacks.length = 0;
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the main connection never checkpoints; once the WAL has grown, the thread copies it into the database file', async () => {
    const s = open(256 * 1024);
    const db = sqliteHandleOf(s)!;
    assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 0);
    const before = fs.statSync(file).size;
    write(s, 2048, 'a');
    // The commit left the pages in the WAL only: the main connection did not copy them back.
    assert.ok(fs.statSync(file).size < before + 1024 * 1024, 'no checkpoint inside the commit');
    await until('the thread checkpointed the WAL into the database file', () => fs.statSync(file).size >= before + 2 * 1024 * 1024 - 64 * 1024);
    assert.equal(sqliteCheckpointerOf(s)?.onThread, true);
    assert.deepEqual(fallbacks, []);
  });

  it('a quiet store starts no thread (a small WAL stays with the connection until it grows)', async () => {
    const s = open(1024 * 1024);
    write(s, 16, 'b');
    // The checkpointer's timer looks at the WAL with fs.promises.stat and decides right after the answer (in the same
    // run of microtasks). Counting the looks at the WAL that began after the write, answered, shows the timer has seen
    // the changed, small WAL twice: had it started the thread, onThread would be true by now.
    const wal = `${file}-wal`;
    const stat = fs.promises.stat;
    let looked = 0;
    fs.promises.stat = ((p: fs.PathLike, o?: fs.StatOptions) =>
      (stat as (p: fs.PathLike, o?: fs.StatOptions) => Promise<fs.Stats>)(p, o).then((st) => {
        if (p === wal) looked++;
        return st;
      })) as typeof fs.promises.stat;
    try {
      await until('the timer to look at the grown WAL twice', () => looked >= 2);
    } finally {
      fs.promises.stat = stat;
    }
    assert.equal(sqliteCheckpointerOf(s)?.onThread, false);
  });

  it('a thread that ends brings the automatic checkpoint back on the main connection, and checkpoints still work', async () => {
    const s = open(1024 * 1024);
    const cp = sqliteCheckpointerOf(s)!;
    await cp.checkpoint();
    assert.equal(cp.onThread, true);
    await cp.stopThread();
    const db = sqliteHandleOf(s)!;
    await until('the fallback', () => db.pragma('wal_autocheckpoint', { simple: true }) === 1000);
    assert.equal(cp.onThread, false);
    assert.deepEqual(fallbacks, ['the checkpoint thread ended']);
    const before = fs.statSync(file).size;
    write(s, 512, 'c');
    await cp.checkpoint();
    assert.ok(fs.statSync(file).size >= before + 512 * 1024 - 64 * 1024, 'checkpointed on the main connection');
    assert.deepEqual(await s.probe.check(), { ok: true });
  });

  it('closing the store ends the thread; everything committed is there when the file is opened again', async () => {
    const s = open(64 * 1024);
    write(s, 1024, 'd');
    await until('the thread started', () => sqliteCheckpointerOf(s)?.onThread === true);
    await s.close();
    store = undefined;
    const again = (store = createSqliteStore(file));
    const n = (sqliteHandleOf(again)!.prepare(`SELECT count(*) AS n FROM kv WHERE key LIKE 'd-%'`).get() as { n: number }).n;
    assert.equal(n, 256);
  });
});

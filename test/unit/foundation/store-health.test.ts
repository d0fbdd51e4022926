import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { isStoreFault } from '../../../lib/store/faults';
import { createStoreProbe } from '../../../lib/store/health';
import { startCheckpointer, type Checkpointer } from '../../../lib/store/sqlite/checkpointer';
import { tempDb, type TempDb } from '../links/temp-db';

/** chattr +i / -i (root): the file can be neither written nor replaced, whatever its permissions. */
function immutable(on: boolean, files: string[]): void {
  execFileSync('chattr', [on ? '+i' : '-i', ...files]);
}

describe('store health: a real, bounded write', function () {
  this.timeout(20_000);
  let t: TempDb;
  let locked: string[] = [];
  let checkpointer: Checkpointer | undefined;
  beforeEach(() => {
    t = tempDb('idv-store-health-');
    // A write first, so the WAL file exists as it does in a running runtime.
    t.db.prepare("INSERT INTO kv (key, value) VALUES ('x', 'y')").run();
  });
  afterEach(async () => {
    // Every path, also a failed assertion, gives the files back before removing them.
    if (locked.length) immutable(false, locked);
    locked = [];
    await checkpointer?.close();
    checkpointer = undefined;
    t.cleanup();
  });

  function freeze(files: string[]) {
    immutable(true, files);
    locked = files;
  }
  function thaw() {
    immutable(false, locked);
    locked = [];
  }

  it('is ok on a writable store', async () => {
    assert.deepEqual(await createStoreProbe(t.db).check(), { ok: true });
  });

  for (const [what, suffixes, thread] of [
    ['database and WAL immutable', ['', '-wal'], false],
    ['only the database file immutable (writes land in the WAL, the checkpoint fails)', [''], false],
    ['only the database file immutable, checkpoints on their own thread (lib/store/sqlite/checkpointer.ts)', [''], true],
  ] as const) {
    it(`detects a store that can read but not write: ${what}; recovers and says so once`, async () => {
      checkpointer = thread ? startCheckpointer(t.db, t.file, { everyMs: 60_000 }) : undefined;
      // The thread starts at its first checkpoint, while the file is still writable (as in a running runtime).
      await checkpointer?.checkpoint();
      assert.equal(checkpointer?.onThread ?? false, thread);
      const probe = createStoreProbe(t.db, checkpointer?.checkpoint);
      let woke = 0;
      probe.on('writable', () => woke++);
      freeze(suffixes.map((s) => t.file + s));
      const down = await probe.check();
      assert.equal(down.ok, false);
      assert.match(String(down.detail), /^cannot write \(SQLITE_[A-Z_]+\)$/);
      assert.ok(!String(down.detail).includes('/'), 'no path in the detail');
      assert.equal((t.db.prepare('SELECT value FROM kv WHERE key = ?').get('x') as { value: string }).value, 'y', 'reads still work');
      assert.throws(
        () => {
          t.db.prepare("INSERT INTO kv (key, value) VALUES ('a', 'b')").run();
          t.db.pragma('wal_checkpoint(PASSIVE)');
        },
        (e: unknown) => isStoreFault(e),
      );
      thaw();
      assert.deepEqual(await probe.check(), { ok: true });
      assert.deepEqual(await probe.check(), { ok: true });
      assert.equal(woke, 1, 'one wake-up for the waiting loops');
    });
  }

  it('a lock held by another process is reported within about a second, not after the 5 s busy timeout', async () => {
    const other = new Database(t.file);
    try {
      other.exec('BEGIN IMMEDIATE');
      const probe = createStoreProbe(t.db);
      const began = Date.now();
      const state = await probe.check();
      const took = Date.now() - began;
      assert.equal(state.ok, false);
      assert.match(String(state.detail), /^locked by another process \(SQLITE_BUSY/);
      assert.ok(took < 4000, `answered in ${took} ms`);
      assert.equal(t.db.pragma('busy_timeout', { simple: true }), 5000, "the connection's own timeout is restored");
      other.exec('ROLLBACK');
      assert.deepEqual(await probe.check(), { ok: true });
    } finally {
      other.close();
    }
  });

  it('tells store faults from other errors', () => {
    for (const code of ['SQLITE_READONLY', 'SQLITE_READONLY_DBMOVED', 'SQLITE_IOERR_WRITE', 'SQLITE_FULL', 'SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_CANTOPEN']) {
      assert.equal(isStoreFault(Object.assign(new Error('x'), { code })), true, code);
    }
    for (const e of [Object.assign(new Error('x'), { code: 'SQLITE_CONSTRAINT_UNIQUE' }), new Error('plain'), null, undefined, { code: 42 }]) {
      assert.equal(isStoreFault(e), false);
    }
  });
});

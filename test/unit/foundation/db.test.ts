import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { openDatabase, StoreError } from '../../../lib/store/db';
import { allMigrations } from '../../../lib/store/migrations';
import { tempDir } from '../../support/runtime';

const digest = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('SQLite store', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir('idv-db-')));
  afterEach(() => {
    try {
      execFileSync('chattr', ['-R', '-i', dir], { stdio: 'ignore' });
    } catch {
      /* chattr is only used by the read-only test */
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('creates the file with WAL and foreign keys and applies every migration once', () => {
    const file = path.join(dir, 'a.sqlite');
    const db = openDatabase(file);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
    const ids = (db.prepare('SELECT id FROM schema_migrations ORDER BY id').all() as { id: number }[]).map((r) => r.id);
    assert.deepEqual(ids, allMigrations().map((m) => m.id));
    db.close();
    const again = openDatabase(file);
    assert.equal((again.prepare('SELECT count(*) n FROM schema_migrations').get() as { n: number }).n, ids.length);
    again.close();
  });

  it('a damaged file gives a clear error and is left byte for byte as it was', () => {
    const file = path.join(dir, 'corrupt.sqlite');
    fs.writeFileSync(file, Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(4096, 0x5a)]));
    const before = digest(file);
    assert.throws(() => openDatabase(file), (e: Error) => e instanceof StoreError && /damaged or not an SQLite file/.test(e.message));
    assert.equal(digest(file), before);
    const text = path.join(dir, 'text.sqlite');
    fs.writeFileSync(text, 'this is not a database at all, it is a shopping list\n'.repeat(100));
    assert.throws(() => openDatabase(text), StoreError);
    assert.match(fs.readFileSync(text, 'utf8'), /shopping list/);
  });

  it('a database locked by another process gives a clear error, not a reset', () => {
    const file = path.join(dir, 'locked.sqlite');
    const first = openDatabase(file);
    first.prepare("INSERT INTO kv (key, value) VALUES ('keep', 'me')").run();
    first.close();
    // Another connection holds the write lock while a new migration wants to run.
    const holder = new Database(file);
    holder.exec('BEGIN EXCLUSIVE');
    const extra = [...allMigrations(), { id: allMigrations().at(-1)!.id + 1, name: 'extra', up: 'CREATE TABLE extra (x)' }];
    assert.throws(() => openDatabase(file, extra, { busyTimeoutMs: 100 }), (e: Error) => e instanceof StoreError && /locked/.test(e.message));
    holder.exec('ROLLBACK');
    holder.close();
    const db = openDatabase(file);
    assert.equal((db.prepare("SELECT value FROM kv WHERE key = 'keep'").get() as { value: string }).value, 'me');
    db.close();
  });

  it('a read-only database gives a clear error', function () {
    const file = path.join(dir, 'ro.sqlite');
    openDatabase(file).close();
    const extra = [...allMigrations(), { id: allMigrations().at(-1)!.id + 1, name: 'extra', up: 'CREATE TABLE extra (x)' }];
    try {
      // Tests run as root, for whom file modes do not apply; the immutable attribute does.
      execFileSync('chattr', ['+i', file, dir]);
    } catch {
      this.skip();
    }
    assert.throws(() => openDatabase(file, extra), (e: Error) => e instanceof StoreError && /cannot be written|could not be opened/.test(e.message));
  });

  it('refuses a database written by a newer version', () => {
    const file = path.join(dir, 'newer.sqlite');
    openDatabase(file).close();
    const db = new Database(file);
    db.prepare("INSERT INTO schema_migrations (id, name, applied_at) VALUES (999, 'future', 'x')").run();
    db.close();
    assert.throws(() => openDatabase(file), /newer ID Video/);
  });
});

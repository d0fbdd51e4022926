import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { openDatabase, StoreError } from '../../../lib/store/db';
import { allMigrations } from '../../../lib/store/migrations';
import { tempDir } from '../../support/runtime';
import { skipBecause } from '../../support/skip';

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
    fs.chmodSync(dir, 0o700);
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

  // Root ignores file modes: as root the file is made immutable (chattr, where the file system supports it) and the
  // modes are tried as an unprivileged user (runuser), so both kinds of read-only are proven here as they are in CI.
  const extraMigration = () => [...allMigrations(), { id: allMigrations().at(-1)!.id + 1, name: 'extra', up: 'CREATE TABLE extra (x)' }];
  const READ_ONLY = /cannot be written|could not be opened/;

  it('a read-only database (immutable file) gives a clear error', function () {
    const file = path.join(dir, 'ro.sqlite');
    openDatabase(file).close();
    try {
      execFileSync('chattr', ['+i', file, dir], { stdio: 'pipe' });
    } catch (e) {
      skipBecause(this, `chattr +i is not possible here (${String((e as { stderr?: Buffer }).stderr ?? e).trim().split('\n')[0]}); the file-mode case below still runs`);
    }
    assert.throws(() => openDatabase(file, extraMigration()), (e: Error) => e instanceof StoreError && READ_ONLY.test(e.message));
  });

  it('a read-only database (file modes, unprivileged user) gives a clear error', function () {
    const file = path.join(dir, 'ro-mode.sqlite');
    openDatabase(file).close();
    fs.chmodSync(file, 0o444);
    fs.chmodSync(dir, 0o555);
    if (process.getuid?.() !== 0) {
      assert.throws(() => openDatabase(file, extraMigration()), (e: Error) => e instanceof StoreError && READ_ONLY.test(e.message));
      return;
    }
    // As root: the same call in a child process as the user nobody (the built files are world-readable).
    const script = `const { openDatabase, StoreError } = require(${JSON.stringify(require.resolve('../../../lib/store/db'))});
const { allMigrations } = require(${JSON.stringify(require.resolve('../../../lib/store/migrations'))});
const extra = [...allMigrations(), { id: allMigrations().at(-1).id + 1, name: 'extra', up: 'CREATE TABLE extra (x)' }];
const readable = (() => { try { require('node:fs').accessSync(${JSON.stringify(file)}, 4); return true; } catch { return false; } })();
try { openDatabase(${JSON.stringify(file)}, extra); console.log(JSON.stringify({ readable, opened: true })); }
catch (e) { console.log(JSON.stringify({ readable, store: e instanceof StoreError, message: e.message })); }`;
    let out: string;
    try {
      out = execFileSync('runuser', ['-u', 'nobody', '--', process.execPath, '-e', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      skipBecause(this, `cannot run node as the user nobody here (${String((e as { stderr?: string }).stderr ?? e).trim().split('\n')[0]})`);
    }
    const r = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { readable?: boolean; opened?: boolean; store?: boolean; message?: string };
    assert.equal(r.readable, true, 'nobody reaches and reads the file: only writing is what is refused');
    assert.equal(r.opened, undefined, 'nobody could write a read-only database');
    assert.equal(r.store, true, `a StoreError, not ${r.message}`);
    assert.match(r.message ?? '', READ_ONLY);
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

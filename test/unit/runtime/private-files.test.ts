import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { foreignOwnerProblem, tightenDataDir } from '../../../lib/runtime/file-modes';
import { backupDatabase } from '../../../lib/store/backup';
import { openDatabase } from '../../../lib/store/db';
import { ROOT, tempDir } from '../../support/runtime';

const mode = (p: string) => fs.statSync(p).mode & 0o777;

describe('private files', () => {
  let dir: string;
  let umask: number;
  beforeEach(() => {
    dir = tempDir('idv-files-');
    // What a shell gives a process: files 0644, folders 0755.
    umask = process.umask(0o022);
  });
  afterEach(() => {
    process.umask(umask);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('takes group and other permissions from the data dir and what lies directly in it, and says which', () => {
    fs.chmodSync(dir, 0o755);
    fs.writeFileSync(path.join(dir, 'idvideo.sqlite'), 'x', { mode: 0o644 });
    fs.writeFileSync(path.join(dir, 'flows.json'), 'x', { mode: 0o600 });
    fs.mkdirSync(path.join(dir, 'lib'), { mode: 0o755 });
    fs.symlinkSync('/etc/hostname', path.join(dir, 'link'));
    const r = tightenDataDir(dir);
    assert.deepEqual(r.changed.sort(), ['.', 'idvideo.sqlite', 'lib']);
    assert.deepEqual(r.failed, []);
    assert.equal(mode(dir), 0o700);
    assert.equal(mode(path.join(dir, 'idvideo.sqlite')), 0o600);
    assert.equal(mode(path.join(dir, 'lib')), 0o700);
    assert.equal(mode('/etc/hostname') & 0o004, 0o004, 'a symbolic link\'s target is left alone');
    assert.deepEqual(tightenDataDir(dir).changed, [], 'nothing to do the second time');
    assert.deepEqual(tightenDataDir(path.join(dir, 'absent')), { changed: [], failed: [] });
  });

  it('refuses root for another user\'s data dir (files the service could no longer write), not for its own', () => {
    const owner = fs.statSync(dir).uid;
    assert.equal(foreignOwnerProblem(dir, owner === 0 ? 1000 : owner), undefined, 'not root: fine');
    if (owner === 0) {
      assert.equal(foreignOwnerProblem(dir, 0), undefined, 'root in root\'s own data dir: fine');
      fs.chownSync(dir, 4242, 4242);
      assert.match(foreignOwnerProblem(dir, 0) ?? '', /belongs to another user \(uid 4242\).*runuser -u idvideo/);
    }
  });

  it('backs up a database that is being written, consistently, as one 0600 file', async () => {
    process.umask(0o022);
    const source = path.join(dir, 'idvideo.sqlite');
    const db = openDatabase(source);
    db.exec('CREATE TABLE t (n INTEGER)');
    const insert = db.prepare('INSERT INTO t (n) VALUES (?)');
    for (let i = 0; i < 2000; i++) insert.run(i);
    // Writes go on while the backup runs (each its own committed transaction, as the runtime's are).
    let n = 2000;
    const writer = setInterval(() => insert.run(n++), 1);
    try {
      const dest = path.join(dir, 'copy.sqlite');
      const { pages } = await backupDatabase(source, dest);
      assert.ok(pages > 1);
      assert.equal(mode(dest), 0o600);
      assert.ok(!fs.existsSync(`${dest}-wal`) && !fs.existsSync(`${dest}.partial`), 'one self-contained file');
      const copy = new Database(dest, { readonly: true });
      try {
        const rows = copy.prepare('SELECT COUNT(*) AS c, MAX(n) AS m FROM t').get() as { c: number; m: number };
        assert.equal(rows.c, rows.m + 1, 'a committed state: no gap, no half transaction');
        assert.ok(rows.c >= 2000);
      } finally {
        copy.close();
      }
    } finally {
      clearInterval(writer);
      db.close();
    }
    await assert.rejects(backupDatabase(path.join(dir, 'none.sqlite'), path.join(dir, 'x.sqlite')), /there is no database/);
    assert.ok(!fs.existsSync(path.join(dir, 'x.sqlite.partial')));
  });

  it('the runtime started by npm stops when npm is gone, even killed (lib/runtime/parent-watch.ts)', async () => {
    const watcher = path.join(dir, 'watch.js');
    const ready = path.join(dir, 'ready');
    const marker = path.join(dir, 'stopped');
    fs.writeFileSync(
      watcher,
      `const { stopWhenNpmExits } = require(${JSON.stringify(path.join(ROOT, 'dist', 'lib', 'runtime', 'parent-watch.js'))});
       setInterval(() => {}, 1000);
       stopWhenNpmExits((why) => { require('fs').writeFileSync(${JSON.stringify(marker)}, why); process.exit(0); }, { intervalMs: 50 });
       require('fs').writeFileSync(${JSON.stringify(ready)}, String(process.pid));`,
    );
    // A stand-in for npm: starts the watcher as its child, then is killed with SIGKILL (no chance to pass a signal on).
    const npm = spawn(process.execPath, ['-e', `require('child_process').spawn(process.execPath, [${JSON.stringify(watcher)}], { stdio: 'inherit' }); setInterval(() => {}, 1000);`], {
      env: { ...process.env, npm_lifecycle_event: 'start' },
      stdio: 'ignore',
    });
    const until = async (what: string, ok: () => boolean) => {
      const deadline = Date.now() + 15_000;
      while (!ok()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    try {
      await until('the watcher to start', () => fs.existsSync(ready) && fs.readFileSync(ready, 'utf8') !== '');
      npm.kill('SIGKILL');
      await until('the watcher to stop', () => fs.existsSync(marker));
      assert.equal(fs.readFileSync(marker, 'utf8'), 'npm, which started the runtime, has exited');
    } finally {
      npm.kill('SIGKILL');
      const pid = fs.existsSync(ready) ? Number(fs.readFileSync(ready, 'utf8')) : 0;
      if (pid && !fs.existsSync(marker)) process.kill(pid, 'SIGKILL');
    }
  });
});

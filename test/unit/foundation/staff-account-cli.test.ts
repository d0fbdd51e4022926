import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openDatabase } from '../../../lib/store/db';
import { SqliteStaffStore } from '../../../lib/store/sqlite/staff';
import { verifyPassword } from '../../../lib/staff/password';
import { ROOT, tempDir } from '../../support/runtime';

const CLI = path.join(ROOT, 'dist', 'scripts', 'staff-account.js');
const run = (dataDir: string, args: string[], input = '') =>
  spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', env: { ...process.env, IDV_DATA_DIR: dataDir } });

describe('staff-account command', function () {
  this.timeout(30_000);
  let dir: string;
  before(() => (dir = tempDir('idv-cli-')));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('adds an account with roles, the password from standard input only', async () => {
    const r = run(dir, ['add', 'anna', '--name', 'Anna de Vries', '--roles', 'agent,kcc'], 'a long enough password\n');
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /a long enough password/);
    const db = openDatabase(path.join(dir, 'idvideo.sqlite'));
    const user = await new SqliteStaffStore(db).getUser('anna');
    db.close();
    assert.deepEqual(user?.roles, ['agent', 'kcc']);
    assert.equal(await verifyPassword('a long enough password', user?.passwordHash ?? ''), true);
    assert.match(run(dir, ['list']).stdout, /^anna\tagent,kcc\tAnna de Vries$/m);
  });

  it('refuses short passwords, unknown roles and bad usernames, and changes nothing', () => {
    assert.equal(run(dir, ['add', 'bram', '--name', 'Bram', '--roles', 'agent'], 'short\n').status, 2);
    assert.equal(run(dir, ['add', 'bram', '--name', 'Bram', '--roles', 'root'], 'a long enough password\n').status, 2);
    assert.equal(run(dir, ['add', 'Bram Jansen', '--name', 'Bram', '--roles', 'agent'], 'a long enough password\n').status, 2);
    assert.doesNotMatch(run(dir, ['list']).stdout, /bram/i);
  });
});

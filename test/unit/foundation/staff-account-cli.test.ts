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

  /** An admin account of its own for each test (any order), with one staff and one editor session to end. */
  const sessionsOf = async (fn: (store: SqliteStaffStore) => Promise<unknown>) => {
    const db = openDatabase(path.join(dir, 'idvideo.sqlite'));
    try {
      return await fn(new SqliteStaffStore(db));
    } finally {
      db.close();
    }
  };
  const staffKey = (who: string) => `${who}-${'a'.repeat(60)}`;
  const editorKey = (who: string) => `editor:${who}-${'b'.repeat(60)}`;
  const open = (who: string) =>
    sessionsOf(async (st) => {
      await st.createSession(staffKey(who), who, new Date().toISOString());
      await st.createSession(editorKey(who), who, new Date().toISOString());
    });
  const count = (who: string) => sessionsOf(async (st) => Number(!!(await st.getSession(staffKey(who)))) + Number(!!(await st.getSession(editorKey(who)))));
  const addAdmin = async (who: string) => {
    assert.equal(run(dir, ['add', who, '--name', who, '--roles', 'admin,agent'], 'a long enough password\n').status, 0);
    await open(who);
  };

  // One account action per test: each spawns a few CLI processes, which take seconds on a busy machine.
  it('a password change ends every session of the account (staff and editor)', async () => {
    await addAdmin('cees');
    const pw = run(dir, ['password', 'cees'], 'another long password\n');
    assert.match(pw.stdout, /2 session\(s\) ended/);
    assert.equal(await count('cees'), 0);
  });

  it('disable ends every session of the account; enable lets it sign in again', async () => {
    await addAdmin('dirk');
    assert.match(run(dir, ['disable', 'dirk']).stdout, /disabled; 2 session\(s\) ended/);
    assert.equal(await count('dirk'), 0);
    assert.equal(((await sessionsOf((st) => st.getUser('dirk'))) as { disabled: boolean }).disabled, true);
    assert.match(run(dir, ['list']).stdout, /^dirk\tadmin,agent\tdirk\t\(disabled\)$/m);
    run(dir, ['enable', 'dirk']);
    assert.equal(((await sessionsOf((st) => st.getUser('dirk'))) as { disabled: boolean }).disabled, false);
  });

  it('remove ends every session and the account; commands on a missing account or unknown commands exit 2', async () => {
    await addAdmin('eva');
    assert.match(run(dir, ['remove', 'eva']).stdout, /removed; 2 session\(s\) ended/);
    assert.equal(await count('eva'), 0);
    assert.equal(await sessionsOf((st) => st.getUser('eva')), undefined);
    assert.equal(run(dir, ['disable', 'eva']).status, 2, 'no such account');
    assert.equal(run(dir, ['frobnicate', 'x']).status, 2);
  });

  it('the manager role; an account of the gemeente provider is listed (sso) and gets no password here', async () => {
    assert.equal(run(dir, ['add', 'mila', '--name', 'Mila', '--roles', 'manager'], 'a long enough password\n').status, 0);
    const db = openDatabase(path.join(dir, 'idvideo.sqlite'));
    const saved = await new SqliteStaffStore(db).saveSsoUser(
      { issuer: 'https://login.gemeente.test', subject: 'sub-1', username: 'sanne@gemeente.test', displayName: 'Sanne', roles: ['agent'] },
      new Date().toISOString(),
    );
    db.close();
    assert.equal(saved.ok, true);
    const list = run(dir, ['list']).stdout;
    assert.match(list, /^mila\tmanager\tMila$/m);
    assert.match(list, /^sanne@gemeente\.test\tagent\tSanne\t\(sso\)$/m);
    for (const args of [['password', 'sanne@gemeente.test'], ['add', 'sanne@gemeente.test', '--name', 'S', '--roles', 'admin']]) {
      const r = run(dir, args, 'a long enough password\n');
      assert.equal(r.status, 2);
      assert.match(r.stderr, /signs in through the gemeente's identity provider/);
    }
  });
});

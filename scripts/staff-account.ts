/**
 * Staff accounts from the command line (production has no demo accounts):
 *
 *   node dist/scripts/staff-account.js add <username> --name "Anna de Vries" --roles agent[,kcc,admin,manager]
 *   node dist/scripts/staff-account.js password <username>
 *   node dist/scripts/staff-account.js disable <username>
 *   node dist/scripts/staff-account.js enable <username>
 *   node dist/scripts/staff-account.js remove <username>
 *   node dist/scripts/staff-account.js list
 *
 * `password`, `disable` and `remove` end every session of the account at once: staff sign-ins and flow editor tokens
 * alike (both live, hashed, in the same table and are checked there on every request). The password is read from
 * standard input (one line), never from the command line, where it would end up in the shell history and the process
 * list. Uses the runtime's store (IDV_DATABASE_URL, else the SQLite file in IDV_DATA_DIR); run it while the runtime is
 * stopped or running (SQLite's WAL and PostgreSQL both allow that), as the user the runtime runs as (root is refused
 * for another user's data dir: it would leave files the service cannot write).
 *
 * Accounts of the gemeente's identity provider (SSO, lib/staff/sso.ts) are made and updated by their sign-ins and
 * marked "(sso)" in the list; they have no password here. `disable`, `enable` and `remove` work on them too (remove
 * only resets: the next sign-in with a mapped group makes the account again; disable keeps the person out).
 */
import { loadConfig } from '../lib/config';
import { foreignOwnerProblem, usePrivateFileModes } from '../lib/runtime/file-modes';
import { hashPassword } from '../lib/staff/password';
import { ROLES, type Role } from '../lib/staff/types';
import { openStore } from '../lib/store/open';

const USAGE =
  'usage: staff-account add <username> --name "Display Name" --roles agent,kcc,admin,manager | password <username> | ' +
  'disable <username> | enable <username> | remove <username> | list';

function usage(message?: string): never {
  if (message) console.error(message);
  console.error(USAGE);
  process.exit(2);
}

async function readPassword(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const line = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  if (line.length < 12) usage('the password (on standard input) must be at least 12 characters');
  return line;
}

const sessionsEnded = (n: number) => `${n} session(s) ended (staff sign-ins and flow editor tokens)`;

async function main(): Promise<void> {
  const [cmd, username, ...rest] = process.argv.slice(2);
  if (!cmd || !['add', 'password', 'disable', 'enable', 'remove', 'list'].includes(cmd)) usage(cmd ? `unknown command ${cmd}` : undefined);
  const config = loadConfig({ ...process.env, IDV_MODE: 'demo' });
  // Files this creates (a first database, its -wal/-shm) are the service user's and private, as the runtime's are.
  const owner = foreignOwnerProblem(config.dataDir);
  if (owner) {
    console.error(owner);
    process.exit(2);
  }
  usePrivateFileModes();
  // The same store the runtime uses: IDV_DATABASE_URL (PostgreSQL) or the SQLite file in IDV_DATA_DIR.
  const opened = openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  await opened.ready;
  const store = opened.staff;
  try {
    if (cmd === 'list') {
      for (const u of await store.listAccounts()) console.log(`${u.username}\t${u.roles.join(',')}\t${u.displayName}${u.sso ? '\t(sso)' : ''}${u.disabled ? '\t(disabled)' : ''}`);
      return;
    }
    if (!username || !/^[a-z0-9._@-]{1,64}$/.test(username)) usage('username: 1 to 64 lower-case letters, digits or . _ @ -');
    const ssoAccount = (await store.getUser(username))?.sso;
    if (ssoAccount && (cmd === 'add' || cmd === 'password')) {
      usage(`${username} signs in through the gemeente's identity provider: its name and roles come from there, and it has no password here`);
    }
    if (cmd === 'add') {
      const opt = (name: string) => {
        const i = rest.indexOf(name);
        return i >= 0 ? rest[i + 1] : undefined;
      };
      const displayName = opt('--name') ?? usage('--name is required');
      if (displayName.length > 100 || /[\u0000-\u001f<>]/.test(displayName)) usage('--name: at most 100 characters, no < > or control characters');
      const roles = (opt('--roles') ?? usage('--roles is required')).split(',').map((r) => r.trim());
      if (!roles.length || roles.some((r) => !ROLES.includes(r as Role))) usage(`--roles: a comma-separated list of ${ROLES.join(', ')}`);
      await store.upsertUser({ username, displayName, roles: roles as Role[], passwordHash: await hashPassword(await readPassword()) });
      console.log(`account ${username} saved (${roles.join(', ')})`);
      return;
    }
    const user = (await store.getUser(username)) ?? usage(`no account ${username}`);
    if (cmd === 'password') {
      await store.upsertUser({ username, displayName: user.displayName, roles: user.roles, passwordHash: await hashPassword(await readPassword()) });
      console.log(`password of ${username} changed; ${sessionsEnded(await store.deleteSessionsOf(username))}`);
    } else if (cmd === 'disable') {
      await store.setDisabled(username, true);
      console.log(`account ${username} disabled; ${sessionsEnded(await store.deleteSessionsOf(username))}`);
    } else if (cmd === 'enable') {
      await store.setDisabled(username, false);
      console.log(`account ${username} enabled`);
    } else if (cmd === 'remove') {
      const ended = await store.deleteSessionsOf(username);
      await store.removeUser(username);
      console.log(`account ${username} removed; ${sessionsEnded(ended)}`);
    }
  } finally {
    await opened.close();
  }
}

void main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});

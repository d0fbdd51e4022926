/**
 * A backup of the data dir while the runtime runs:
 *
 *   node dist/scripts/backup.js <folder> [--keep <n>]
 *
 * writes a new folder `<folder>/idvideo-<UTC time>/` (0700) with
 *   idvideo.sqlite   a consistent copy of the database through SQLite's online backup API (lib/store/backup.ts)
 *   flows.json, flows_cred.json   the flows and their encrypted credentials, as the runtime last saved them
 *   .instance-id     this instance's id for its leases (restored onto the same instance only)
 * every file 0600. With IDV_DATABASE_URL the data is in PostgreSQL: the folder then holds the flows, credentials and
 * instance id only, and the database is backed up as the gemeente backs up its other PostgreSQL databases (pg_dump,
 * continuous archiving). `--keep n` then removes all but the n newest `idvideo-*` folders in <folder> (backups hold residents'
 * contact details: keep them no longer than needed). The credential secret is not copied: flows_cred.json is useless
 * without it, so keep IDV_CREDENTIAL_SECRET in the secret store, apart from the backups. Uses IDV_DATA_DIR like the
 * runtime and must run as the user that owns it (README, "Backups and restore"). Exit codes: 0 written, 1 failed
 * (nothing half-written is left under the new name), 2 usage.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../lib/config';
import { foreignOwnerProblem, usePrivateFileModes } from '../lib/runtime/file-modes';
import { backupDatabase } from '../lib/store/backup';

const USAGE = 'usage: backup <folder> [--keep <n>]   (IDV_DATA_DIR names the data dir, default ./data)';
const PREFIX = 'idvideo-';

function usage(message?: string): never {
  if (message) console.error(message);
  console.error(USAGE);
  process.exit(2);
}

/** 2026-12-01T09:30:05.123Z -> 20261201T093005Z: sorts by time, safe in any file system. */
function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function copyPrivate(from: string, to: string): boolean {
  if (!fs.existsSync(from)) return false;
  fs.writeFileSync(to, fs.readFileSync(from), { mode: 0o600, flag: 'wx' });
  return true;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const keepAt = args.indexOf('--keep');
  let keep: number | undefined;
  if (keepAt >= 0) {
    const raw = args[keepAt + 1] ?? '';
    if (!/^\d+$/.test(raw) || Number(raw) < 1) usage('--keep takes a whole number of at least 1');
    keep = Number(raw);
    args.splice(keepAt, 2);
  }
  if (args.length !== 1 || args[0].startsWith('-')) usage();
  usePrivateFileModes();

  const config = loadConfig({ ...process.env, IDV_MODE: 'demo' });
  const owner = foreignOwnerProblem(config.dataDir);
  if (owner) {
    console.error(owner);
    process.exit(2);
  }
  const database = config.databaseUrl ? undefined : path.join(config.dataDir, 'idvideo.sqlite');
  if (database && !fs.existsSync(database)) usage(`there is no database in ${config.dataDir} (set IDV_DATA_DIR)`);

  const folder = path.resolve(args[0]);
  fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
  const target = path.join(folder, `${PREFIX}${stamp(new Date())}`);
  const partial = `${target}.partial`;
  fs.mkdirSync(partial, { mode: 0o700 });
  try {
    const written: string[] = [];
    if (database) written.push(`idvideo.sqlite (${(await backupDatabase(database, path.join(partial, 'idvideo.sqlite'))).pages} pages)`);
    written.push(...['flows.json', 'flows_cred.json', '.instance-id'].filter((f) => copyPrivate(path.join(config.dataDir, f), path.join(partial, f))));
    fs.renameSync(partial, target);
    console.log(`backup written to ${target}: ${written.join(', ')}`);
    if (!database) console.log('note: the data is in PostgreSQL (IDV_DATABASE_URL); back that database up with pg_dump or its own archiving');
  } catch (e) {
    fs.rmSync(partial, { recursive: true, force: true });
    console.error(`backup failed: ${(e as Error).message}`);
    process.exit(1);
  }
  if (fs.existsSync(path.join(config.dataDir, '.credential-secret'))) {
    console.log('note: the credential secret (.credential-secret) is not in the backup; keep a copy of it apart from the backups');
  }
  if (keep !== undefined) {
    const old = fs.readdirSync(folder).filter((n) => n.startsWith(PREFIX) && !n.endsWith('.partial')).sort().reverse().slice(keep);
    for (const name of old) fs.rmSync(path.join(folder, name), { recursive: true, force: true });
    if (old.length) console.log(`removed ${old.length} older backup(s): ${old.join(', ')}`);
  }
}

void main();

import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Everything ID Video writes holds personal data or secrets: the SQLite database (residents' contact details, password
 * hashes) with its -wal/-shm, flows_cred.json, .credential-secret, Node-RED's own .config.*.json and flow backups, and
 * the backups of scripts/backup.ts. None of it is for other users of the machine: files are created 0600 and folders
 * 0700 (umask 077), whatever umask the process was started with (a shell's 022 gives 0644). SQLite creates -wal and
 * -shm with the mode of the database file, so they follow.
 */
export const PRIVATE_UMASK = 0o077;

/** Makes every file and folder this process creates from now on private to its user. */
export function usePrivateFileModes(): void {
  process.umask(PRIVATE_UMASK);
}

/**
 * Takes group and other permissions away from the data dir and from the files and folders directly in it (left by an
 * older version, a copy, or a restore with `cp`). Symbolic links are left alone. Returns the names it changed so the
 * caller can say so; a file it may not change (another owner) is reported, not fatal.
 */
export function tightenDataDir(dir: string): { changed: string[]; failed: string[] } {
  const changed: string[] = [];
  const failed: string[] = [];
  const tighten = (file: string, name: string) => {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(file);
    } catch {
      return;
    }
    if (st.isSymbolicLink() || (st.mode & 0o077) === 0) return;
    try {
      fs.chmodSync(file, st.mode & 0o700);
      changed.push(name);
    } catch {
      failed.push(name);
    }
  };
  if (!fs.existsSync(dir)) return { changed, failed };
  tighten(dir, '.');
  for (const name of fs.readdirSync(dir)) tighten(path.join(dir, name), name);
  return { changed, failed };
}

/**
 * Scripts that open the data dir (staff accounts, backups) must run as the user the runtime runs as: run as root, they
 * would leave a database, -wal or -shm file owned by root that the service user can no longer write. Returns the
 * problem as text when the caller is root and the data dir belongs to someone else, else undefined.
 */
export function foreignOwnerProblem(dir: string, uid: number | undefined = process.getuid?.()): string | undefined {
  if (uid !== 0 || !fs.existsSync(dir)) return undefined;
  const owner = fs.statSync(dir).uid;
  if (owner === 0) return undefined;
  return (
    `${dir} belongs to another user (uid ${owner}); run this as that user so the files stay theirs, ` +
    `e.g. runuser -u idvideo -- env IDV_DATA_DIR=${dir} node …`
  );
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../../lib/store/db';

/** A real SQLite file with all migrations, in its own temp dir; `reopen` opens the same file again (a restart). */
export interface TempDb {
  db: Db;
  file: string;
  reopen(): Db;
  cleanup(): void;
}

export function tempDb(prefix = 'idv-links-'): TempDb {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const file = join(dir, 'idvideo.db');
  const opened: Db[] = [];
  const open = () => {
    const db = openDatabase(file);
    opened.push(db);
    return db;
  };
  return {
    db: open(),
    file,
    reopen: open,
    cleanup() {
      for (const db of opened) if (db.open) db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

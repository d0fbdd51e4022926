import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Migration } from '../migration';

/**
 * The numbered migrations beside this file (`NNN-name.js` after the build), in order. Discovered rather than listed so
 * each domain owns its own migration file; numbers must be unique and ascending. Numbers are handed out per task
 * before the work is merged, so a branch may lack a number another branch holds: a gap is allowed, a duplicate not.
 */
export function allMigrations(dir: string = __dirname): Migration[] {
  const files = fs.readdirSync(dir).filter((f) => /^\d{3}-[a-z0-9-]+\.js$/.test(f)).sort();
  const migrations = files.map((f) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(path.join(dir, f)) as { migration?: Migration };
    if (!mod.migration) throw new Error(`migration file ${f} exports no "migration"`);
    if (mod.migration.id !== Number(f.slice(0, 3))) throw new Error(`migration file ${f} has id ${mod.migration.id}`);
    return mod.migration;
  });
  migrations.forEach((m, i) => {
    if (i === 0 ? m.id !== 1 : m.id <= migrations[i - 1].id) throw new Error(`migrations must be numbered from 001 upwards, each once; found ${m.id} at ${i + 1}`);
  });
  return migrations;
}

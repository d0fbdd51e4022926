import { randomBytes } from 'node:crypto';
import { hashPassword } from '../staff/password';
import type { Role, StaffStore } from '../staff/types';

export const DEMO_ACCOUNTS: { username: string; displayName: string; roles: Role[] }[] = [
  { username: 'agent1', displayName: 'Anna de Vries (demo)', roles: ['agent'] },
  { username: 'agent2', displayName: 'Bram Jansen (demo)', roles: ['agent'] },
  { username: 'kcc1', displayName: 'Karin Claassen (KCC, demo)', roles: ['kcc'] },
  { username: 'admin', displayName: 'Beheerder (demo)', roles: ['admin'] },
];

/**
 * Demo mode's staff accounts. With IDV_DEMO_PASSWORD they all get that password at every start; without it a password
 * is generated the first time and returned once so the caller can print it (only its hash is kept).
 */
export async function seedDemoAccounts(store: StaffStore, demoPassword?: string): Promise<{ generatedPassword?: string }> {
  const missing: typeof DEMO_ACCOUNTS = [];
  for (const a of DEMO_ACCOUNTS) if (!(await store.getUser(a.username))) missing.push(a);
  if (demoPassword) {
    if (demoPassword.length < 12) throw new Error('IDV_DEMO_PASSWORD must be at least 12 characters');
    const hash = await hashPassword(demoPassword);
    for (const a of DEMO_ACCOUNTS) await store.upsertUser({ ...a, passwordHash: hash });
    return {};
  }
  if (!missing.length) return {};
  const generated = randomBytes(12).toString('base64url');
  const hash = await hashPassword(generated);
  for (const a of missing) await store.upsertUser({ ...a, passwordHash: hash });
  return { generatedPassword: generated };
}

import * as fs from 'node:fs';
import type { HealthState, Logger } from '../services';
import type { StaffAccount } from '../staff/types';
import { productionFlowProblems } from './production-flows';

export interface FlowGuard {
  /** The problems of a flows configuration (the editor's deploy body, the flows file, a started configuration). */
  problemsOf(flows: unknown): Promise<string[]>;
  /** Checks the flows file at start; logs each problem; returns them. */
  checkFile(file: string): Promise<string[]>;
  /** Flows started (by a deploy or any other route): checks what runs now and logs what is wrong. */
  started(flows: unknown): Promise<void>;
  /** For /healthz: not ok while the flows that run (or would run) hold the demo set-up. */
  health(): HealthState;
}

/**
 * Production's guard against the default flows' demo set-up (lib/runtime/production-flows.ts), wired by settings.ts:
 * at start (problems keep the flows stopped), on deploy (lib/editor/deploy-check.ts refuses), and when flows start
 * (health turns red, the log says why).
 */
export function createFlowGuard(o: { accounts: () => Promise<StaffAccount[]>; log: Logger }): FlowGuard {
  let current: string[] = [];
  const problemsOf = async (flows: unknown) => productionFlowProblems(flows, await o.accounts());
  const report = (problems: string[], what: string) => {
    o.log.error(`${what}: the flows still hold the demo set-up of the default flows. Change in the editor (/admin), then deploy:`);
    for (const p of problems) o.log.error(`  - ${p}`);
  };
  return {
    problemsOf,
    async checkFile(file) {
      current = await problemsOf(JSON.parse(fs.readFileSync(file, 'utf8')));
      if (current.length) report(current, 'production: flows not started');
      return current;
    },
    async started(flows) {
      current = await problemsOf(flows);
      if (current.length) report(current, 'production: flows started anyway (not through the editor)');
    },
    health() {
      if (!current.length) return { ok: true };
      return { ok: false, detail: `the flows hold the demo set-up: ${current[0]}${current.length > 1 ? ` (and ${current.length - 1} more, see the log)` : ''}` };
    },
  };
}

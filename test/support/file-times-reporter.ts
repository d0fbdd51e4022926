/**
 * Mocha's spec reporter plus the time each test file took (its top-level suites from start to end, hooks included),
 * slowest first, after the summary. The suite's speed is watched per file: a file that grows slow shows here first.
 *
 *   IDV_TEST_TIMES=<file>   also writes the figures as JSON ([{file, ms, tests}], slowest first)
 *   IDV_TEST_TIMES_TOP=<n>  prints only the n slowest files (default: all)
 *
 * Registered in .mocharc.json; `mocha --reporter spec` gives the plain one.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

const { EVENT_SUITE_BEGIN, EVENT_SUITE_END, EVENT_TEST_END, EVENT_RUN_END } = Mocha.Runner.constants;

interface FileTime {
  file: string;
  ms: number;
  tests: number;
}

class FileTimesReporter extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    const started = new Map<Mocha.Suite, number>();
    const files = new Map<string, FileTime>();
    const entry = (file: string) => {
      let e = files.get(file);
      if (!e) files.set(file, (e = { file, ms: 0, tests: 0 }));
      return e;
    };
    runner.on(EVENT_SUITE_BEGIN, (suite: Mocha.Suite) => {
      if (suite.file && suite.parent?.root) started.set(suite, Date.now());
    });
    runner.on(EVENT_SUITE_END, (suite: Mocha.Suite) => {
      const t = started.get(suite);
      if (t !== undefined && suite.file) entry(suite.file).ms += Date.now() - t;
    });
    runner.on(EVENT_TEST_END, (test: Mocha.Test) => {
      if (test.file) entry(test.file).tests++;
    });
    runner.once(EVENT_RUN_END, () => {
      const list = [...files.values()].sort((a, b) => b.ms - a.ms);
      if (list.length === 0) return;
      const top = Number(process.env.IDV_TEST_TIMES_TOP) || list.length;
      const total = list.reduce((s, f) => s + f.ms, 0);
      const rel = (f: string) => path.relative(process.cwd(), f);
      const lines = list.slice(0, top).map((f) => `  ${(f.ms / 1000).toFixed(1).padStart(7)} s  ${String(f.tests).padStart(4)} tests  ${rel(f.file)}`);
      process.stdout.write(`\n  time per test file (${list.length} files, ${(total / 1000).toFixed(1)} s in files):\n${lines.join('\n')}\n\n`);
      if (process.env.IDV_TEST_TIMES) fs.writeFileSync(process.env.IDV_TEST_TIMES, JSON.stringify(list.map((f) => ({ ...f, file: rel(f.file) })), null, 1));
    });
  }
}

export = FileTimesReporter;

import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Puts the default flows in the data dir on first start, and refuses a flows file that is not valid JSON: Node-RED
 * would start with no flows and the next deploy would overwrite what the administrator had.
 */
export function prepareFlowsFile(dataDir: string, defaultFlows: string): { file: string; created: boolean } {
  const file = path.join(dataDir, 'flows.json');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dataDir, { recursive: true });
    // Not copyFile: it gives the copy the package file's mode (0644); this one is created under the private umask.
    fs.writeFileSync(file, fs.readFileSync(defaultFlows), { flag: 'wx', mode: 0o600 });
    return { file, created: true };
  }
  const text = fs.readFileSync(file, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new Error(
      `The flows file ${file} is not valid JSON (${(e as Error).message}). It was left as it is: repair it, restore ` +
        `it from a backup (Node-RED keeps .flows.json.backup beside it), or move it away to start from the default flows.`,
    );
  }
  if (!Array.isArray(parsed) && !(parsed && typeof parsed === 'object' && Array.isArray((parsed as { flows?: unknown }).flows))) {
    throw new Error(`The flows file ${file} does not hold a list of flows. It was left as it is.`);
  }
  return { file, created: false };
}

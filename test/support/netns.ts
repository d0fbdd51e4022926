import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT, tempDir } from './runtime';

/**
 * Real networks for call tests, built from Linux network namespaces (needs root):
 *
 *   [resident ns] 192.168.77.2 --veth-- 192.168.77.1 [router ns, NAT] 198.18.K.2 --+
 *                                                                                   |  bridge in [wan ns]
 *   [root ns: media server + web server] 198.18.K.1 --veth---------------------------+
 *   [turn ns: coturn] 198.18.K.3 --veth------------------------------------------------+
 *
 * The router masquerades the resident's traffic (a home or office router) and carries the packet filters of each
 * case (nftables, `inet idv` table). Names carry the test process id and a random part, so parallel runs never meet;
 * `removeStaleNetworks()` removes what a killed run left behind. Everything is removed by `destroy()`, and
 * synchronously on process exit, SIGINT and SIGTERM.
 */
export interface TestNetwork {
  id: string;
  ns: { wan: string; router: string; resident: string; turn: string };
  /** The root namespace's address on the "internet": media server and web server listen here. */
  serverIp: string;
  routerWanIp: string;
  turnIp: string;
  residentIp: string;
  /** Runs a command in a namespace (synchronously), e.g. `exec(ns.router, 'nft', ...)`. */
  exec(ns: string, ...argv: string[]): string;
  /** Replaces the router's filter rules (nft syntax inside `chain forward { … }`); empty: everything allowed. */
  setRouterFilter(rules: string[]): void;
  /** The router's public address changes (another network, another NAT mapping); returns the new address. */
  changeRouterAddress(): string;
  /** Delay and loss on the resident's link, both ways. Returns what does it: "tc netem" or "delay line". */
  impairResidentLink(delayMs: number, lossPercent: number): Promise<string>;
  clearImpairment(): Promise<void>;
  /** An executable that starts `binary` inside the namespace (for browsers launched by a test driver). */
  wrapper(ns: string, binary: string): string;
  destroy(): void;
}

const PREFIX = 'idvt';
const live = new Set<TestNetwork>();
let exitHooks = false;

function run(argv: string[], input?: string): string {
  return execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', input, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
}

function tryRun(argv: string[]): void {
  try {
    run(argv);
  } catch {
    /* already gone */
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Deletes namespaces of earlier test runs whose process is gone (a run killed with SIGKILL cleans nothing). */
export function removeStaleNetworks(): void {
  let list = '';
  try {
    list = run(['ip', 'netns', 'list']);
  } catch {
    return;
  }
  for (const line of list.split('\n')) {
    const m = new RegExp(`^(${PREFIX}(\\d+)-[0-9a-f]+-\\w+)`).exec(line.trim());
    if (m && !pidAlive(Number(m[2]))) tryRun(['ip', 'netns', 'del', m[1]]);
  }
}

/** Whether this process can build namespaces (root, iproute2, nftables). */
export function netnsProblem(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  for (const cmd of ['ip', 'nft']) {
    try {
      run(['sh', '-c', `command -v ${cmd}`]);
    } catch {
      return `${cmd} is not installed (scripts/ensure-test-deps.js installs it)`;
    }
  }
  return undefined;
}

function freeSubnet(): number {
  const used = run(['ip', '-4', '-o', 'addr']);
  for (let i = 0; i < 50; i++) {
    const k = Math.floor(Math.random() * 250) + 1;
    if (!used.includes(`198.18.${k}.`)) return k;
  }
  throw new Error('no free 198.18.x.0/24 subnet for the test network');
}

function installExitHooks(): void {
  if (exitHooks) return;
  exitHooks = true;
  const cleanAll = () => {
    for (const n of [...live]) n.destroy();
  };
  process.on('exit', cleanAll);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      cleanAll();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
}

/** Builds the network above. Throws (after removing what it made) when a step fails. */
export function createTestNetwork(): TestNetwork {
  removeStaleNetworks();
  installExitHooks();
  const id = `${PREFIX}${process.pid}-${randomBytes(2).toString('hex')}`;
  const ns = { wan: `${id}-wan`, router: `${id}-rtr`, resident: `${id}-res`, turn: `${id}-turn` };
  const k = freeSubnet();
  const serverIp = `198.18.${k}.1`;
  let routerWanIp = `198.18.${k}.2`;
  const turnIp = `198.18.${k}.3`;
  const residentIp = '192.168.77.2';
  const rootIf = `ivs${randomBytes(3).toString('hex')}`;
  const dir = tempDir('idv-netns-');
  const children = new Set<ChildProcess>();
  let delayLine: ChildProcess | undefined;
  let destroyed = false;

  const exec = (name: string, ...argv: string[]): string => run(['ip', 'netns', 'exec', name, ...argv]);
  const ipIn = (name: string, ...argv: string[]): string => run(['ip', '-n', name, ...argv]);

  const destroy = (): void => {
    if (destroyed) return;
    destroyed = true;
    live.delete(network);
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    for (const name of Object.values(ns)) tryRun(['ip', 'netns', 'del', name]);
    tryRun(['ip', 'link', 'del', rootIf]);
    fs.rmSync(dir, { recursive: true, force: true });
  };

  const network: TestNetwork = {
    id,
    ns,
    serverIp,
    get routerWanIp() {
      return routerWanIp;
    },
    turnIp,
    residentIp,
    exec,
    setRouterFilter(rules) {
      run(['ip', 'netns', 'exec', ns.router, 'nft', '-f', '-'], `flush chain inet idv forward\n${rules.map((r) => `add rule inet idv forward ${r}\n`).join('')}`);
    },
    changeRouterAddress() {
      const next = routerWanIp.endsWith('.2') ? `198.18.${k}.4` : `198.18.${k}.2`;
      // Removing the address also drops the NAT mappings made with it (the kernel flushes masqueraded flows).
      ipIn(ns.router, 'addr', 'del', `${routerWanIp}/24`, 'dev', 'wan');
      ipIn(ns.router, 'addr', 'add', `${next}/24`, 'dev', 'wan');
      ipIn(ns.router, 'route', 'replace', 'default', 'via', serverIp);
      routerWanIp = next;
      return next;
    },
    async impairResidentLink(delayMs, lossPercent) {
      try {
        ipIn(ns.router, 'link', 'show', 'lan');
        run(['ip', 'netns', 'exec', ns.router, 'tc', 'qdisc', 'replace', 'dev', 'lan', 'root', 'netem', 'delay', `${delayMs}ms`, 'loss', `${lossPercent}%`]);
        run(['ip', 'netns', 'exec', ns.resident, 'tc', 'qdisc', 'replace', 'dev', 'eth0', 'root', 'netem', 'delay', `${delayMs}ms`, 'loss', `${lossPercent}%`]);
        return 'tc netem';
      } catch (e) {
        if (!/qdisc kind is unknown|Unknown qdisc|No such file/i.test(String((e as { stderr?: string }).stderr ?? e))) throw e;
      }
      // This kernel has no sch_netem: route the resident's traffic over a TUN link whose far ends a userspace delay
      // line joins. The resident keeps its address and interface, as with netem; only the path changes.
      const line = spawn('ip', ['netns', 'exec', ns.router, 'python3', '-u', path.join(ROOT, 'test', 'support', 'delay-line.py'), 'dlr', 'dll', String(delayMs), String(lossPercent)], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.add(line);
      delayLine = line;
      await new Promise<void>((resolve, reject) => {
        let err = '';
        line.stderr?.on('data', (d: Buffer) => (err += d.toString()));
        line.stdout?.once('data', () => resolve());
        line.once('exit', (code) => reject(new Error(`delay line exited with ${code}: ${err}`)));
      });
      ipIn(ns.router, 'link', 'set', 'dlr', 'netns', ns.resident);
      ipIn(ns.resident, 'link', 'set', 'dlr', 'up');
      ipIn(ns.router, 'link', 'set', 'dll', 'up');
      ipIn(ns.resident, 'route', 'replace', 'default', 'dev', 'dlr', 'src', residentIp);
      ipIn(ns.router, 'route', 'replace', `${residentIp}/32`, 'dev', 'dll');
      return 'delay line (this kernel has no sch_netem)';
    },
    async clearImpairment() {
      tryRun(['ip', 'netns', 'exec', ns.router, 'tc', 'qdisc', 'del', 'dev', 'lan', 'root']);
      tryRun(['ip', 'netns', 'exec', ns.resident, 'tc', 'qdisc', 'del', 'dev', 'eth0', 'root']);
      if (delayLine) {
        tryRun(['ip', '-n', ns.resident, 'route', 'replace', 'default', 'via', '192.168.77.1', 'dev', 'eth0']);
        tryRun(['ip', '-n', ns.router, 'route', 'del', `${residentIp}/32`]);
        const line = delayLine;
        delayLine = undefined;
        const gone = new Promise((r) => line.once('exit', r));
        line.kill('SIGTERM');
        await gone;
        children.delete(line);
      }
    },
    wrapper(name, binary) {
      const file = path.join(dir, `in-${name}-${path.basename(binary)}`);
      fs.writeFileSync(file, `#!/bin/sh\nexec ip netns exec '${name}' '${binary}' "$@"\n`, { mode: 0o755 });
      return file;
    },
    destroy,
  };
  live.add(network);

  try {
    for (const name of Object.values(ns)) {
      run(['ip', 'netns', 'add', name]);
      ipIn(name, 'link', 'set', 'lo', 'up');
    }
    // The "internet": one bridge that server, TURN host and the router's WAN side hang on.
    ipIn(ns.wan, 'link', 'add', 'br0', 'type', 'bridge');
    ipIn(ns.wan, 'link', 'set', 'br0', 'up');
    const plug = (name: string, inside: string, peerNs: string | null, addr: string) => {
      const port = `p-${name}`;
      if (peerNs) run(['ip', 'link', 'add', inside, 'netns', peerNs, 'type', 'veth', 'peer', 'name', port, 'netns', ns.wan]);
      else run(['ip', 'link', 'add', inside, 'type', 'veth', 'peer', 'name', port, 'netns', ns.wan]);
      ipIn(ns.wan, 'link', 'set', port, 'master', 'br0', 'up');
      if (peerNs) {
        ipIn(peerNs, 'addr', 'add', addr, 'dev', inside);
        ipIn(peerNs, 'link', 'set', inside, 'up');
      } else {
        run(['ip', 'addr', 'add', addr, 'dev', inside]);
        run(['ip', 'link', 'set', inside, 'up']);
      }
    };
    plug('srv', rootIf, null, `${serverIp}/24`);
    plug('turn', 'eth0', ns.turn, `${turnIp}/24`);
    plug('rtr', 'wan', ns.router, `${routerWanIp}/24`);
    // The resident's home network behind the router.
    run(['ip', 'link', 'add', 'lan', 'netns', ns.router, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.resident]);
    ipIn(ns.router, 'addr', 'add', '192.168.77.1/24', 'dev', 'lan');
    ipIn(ns.router, 'link', 'set', 'lan', 'up');
    ipIn(ns.resident, 'addr', 'add', `${residentIp}/24`, 'dev', 'eth0');
    ipIn(ns.resident, 'link', 'set', 'eth0', 'up');
    ipIn(ns.resident, 'route', 'add', 'default', 'via', '192.168.77.1');
    ipIn(ns.router, 'route', 'add', 'default', 'via', serverIp);
    ipIn(ns.turn, 'route', 'add', 'default', 'via', serverIp);
    exec(ns.router, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1');
    // The delay line re-enters packets on another interface than the resident's address lives on.
    for (const name of [ns.router, ns.resident]) exec(name, 'sysctl', '-q', '-w', 'net.ipv4.conf.all.rp_filter=0');
    run(['ip', 'netns', 'exec', ns.router, 'nft', '-f', '-'], [
      'table inet idv {',
      '  chain forward { type filter hook forward priority 0; policy accept; }',
      '}',
      'table ip idvnat {',
      '  chain postrouting { type nat hook postrouting priority 100; oifname "wan" masquerade; }',
      '}',
      '',
    ].join('\n'));
    network.setRouterFilter([]);
  } catch (e) {
    destroy();
    throw e;
  }
  return network;
}

/** Filter rules (for setRouterFilter) that let answers through and drop everything new from the resident except `allow`. */
export function onlyAllow(allow: string[]): string[] {
  return ['ct state established,related accept', 'iifname "wan" drop', ...allow.map((a) => `iifname != "wan" ${a} accept`), 'drop'];
}

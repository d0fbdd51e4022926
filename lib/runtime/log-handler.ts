import { createLogThrottle, type LogThrottle } from '../http/log-throttle';

/** A Node-RED log message as its log handlers receive it (@node-red/util log.js). */
interface NodeRedLogMessage {
  level: number;
  msg: unknown;
  type?: string;
  name?: string;
  id?: string;
}

const LEVEL_NAMES: Record<number, string> = { 10: 'fatal', 20: 'error', 30: 'warn', 40: 'info', 50: 'debug', 60: 'trace', 98: 'audit', 99: 'metric' };
const WARN = 30;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const STACK_LINE = /^\s+at\s/;

function text(msg: unknown): string {
  if (msg instanceof Error) return `${msg.name}: ${msg.message}`;
  if (msg && typeof msg === 'object' && typeof (msg as { message?: unknown }).message === 'string') return (msg as { message: string }).message;
  return String(msg);
}

/**
 * Node-RED's console log handler, made safe for a public service: the same line format as Node-RED's own
 * (`30 Nov 09:00:00 - [warn] [type:name] text`), but an error or warning is one short line — the first line of its
 * text, at most 300 characters, never a stack trace (Node-RED's admin API logs `err.stack` for errors a request can
 * cause) — and such lines are limited per minute, with a count of what was left out. Info lines keep their line
 * breaks (the start banner) but lose stack frames too.
 */
export function nodeRedLogHandler(write: (line: string) => void = (l) => process.stdout.write(`${l}\n`), throttle: LogThrottle = createLogThrottle({ perWindow: 60 })) {
  return () => (m: NodeRedLogMessage) => {
    const level = LEVEL_NAMES[m.level] ?? String(m.level);
    const prefix = m.type ? `[${m.type}:${m.name || m.id}] ` : '';
    let body = text(m.msg)
      .split('\n')
      .filter((l) => !STACK_LINE.test(l))
      .join('\n');
    if (m.level <= WARN) {
      body = body.split('\n').find((l) => l.trim()) ?? '';
      if (body.length > 300) body = `${body.slice(0, 297)}...`;
    }
    const d = new Date();
    const time = [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
    const line = `${d.getDate()} ${MONTHS[d.getMonth()]} ${time} - [${level}] ${prefix}${body}`;
    if (m.level <= WARN) throttle(line, write);
    else write(line);
  };
}

/**
 * Libraries inside the runtime print stack traces straight to the console for errors a request can cause (Node-RED's
 * editor API does `console.log(err.stack)` for a bad icon, module or language). Installed once by settings.ts: a
 * console call whose text carries stack frames becomes its first line, at most 300 characters, within a budget per
 * minute; everything else passes unchanged.
 */
export function shortenConsoleStacks(throttle: LogThrottle = createLogThrottle({ perWindow: 60 })): void {
  for (const name of ['log', 'info', 'warn', 'error'] as const) {
    // eslint-disable-next-line no-console
    const original = console[name].bind(console);
    // eslint-disable-next-line no-console
    console[name] = (...args: unknown[]) => {
      const first = args[0];
      const textOf = first instanceof Error ? (first.stack ?? String(first)) : typeof first === 'string' ? first : undefined;
      if (args.length !== 1 || textOf === undefined || !textOf.split('\n').some((l) => STACK_LINE.test(l))) return original(...args);
      const head = textOf.split('\n').find((l) => l.trim() && !STACK_LINE.test(l)) ?? 'error';
      throttle(head.length > 300 ? `${head.slice(0, 297)}...` : head, (l) => original(l));
    };
  }
}

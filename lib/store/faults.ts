/**
 * Store faults: the database cannot be written or reached right now (read-only or immutable file, disk full, locked
 * longer than the busy timeout, I/O error). They are states of the machine, not bugs: requests answer 503 and
 * background loops back off until the store recovers. SQLite extended result codes:
 * https://www.sqlite.org/rescode.html. The PostgreSQL store (lib/store/postgres/client.ts) gives its faults (no
 * connection, server shutting down, disk full, read-only, lock or statement timeout, serialization failures left after
 * its retries) the code `PG_<SQLSTATE or socket code>`; its other errors (constraints, syntax) keep pg's own code.
 */
const FAULT_CODE = /^(?:SQLITE_(?:READONLY|IOERR|FULL|BUSY|LOCKED|CANTOPEN|PERM|NOLFS|PROTOCOL)(?:_[A-Z_]+)?|PG_[A-Z0-9_]{2,40})$/;

export function isStoreFault(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && FAULT_CODE.test(code);
}

/** A short, loggable description of a fault: its code, never a path or a value. */
export function faultCode(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[A-Z0-9_:]{2,60}$/.test(code)) return code;
  return (e as Error | null)?.name && /^[A-Za-z]{1,40}$/.test((e as Error).name) ? (e as Error).name : 'Error';
}

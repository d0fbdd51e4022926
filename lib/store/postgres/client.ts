import { createHash } from 'node:crypto';
import { Pool, type PoolClient, type PoolConfig, type QueryResultRow } from 'pg';

/**
 * The one place that holds a pg Pool: queries, transactions with retry, and the translation of faults. Repositories
 * get a `Pg` and never a client or pool of their own.
 *
 * - Every statement is a named prepared statement (named by the hash of its text): parsed once per connection.
 * - `tx()` runs a transaction on one pooled connection; a serialization failure (40001) or a deadlock (40P01) rolls
 *   back and runs the whole function again, a few times with a short random pause, because that is what PostgreSQL
 *   asks of its clients (https://www.postgresql.org/docs/15/mvcc-serialization-failure-handling.html).
 * - Faults (no connection, server shutting down, disk full, read-only, a lock or statement timeout, retries used up)
 *   are rethrown as `PgFault` with code `PG_<SQLSTATE or socket code>` so lib/store/faults.ts `isStoreFault` knows
 *   them; the message is generic (never the server's, which may quote values). Other errors keep pg's own SQLSTATE.
 */

export interface Query {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<R[]>;
  /** Number of rows the statement touched. */
  run(text: string, values?: unknown[]): Promise<number>;
}

export interface Pg extends Query {
  readonly pool: Pool;
  /**
   * Runs fn in one transaction (READ COMMITTED unless `serializable`), retried on serialization failure and deadlock.
   * fn must not have effects outside the database: it may run more than once.
   */
  tx<T>(fn: (q: Query) => Promise<T>, o?: { serializable?: boolean; retries?: number }): Promise<T>;
  /**
   * One statement in its own (implicit) transaction, run again on serialization failure or deadlock like tx(): for a
   * statement that does a whole unit of work by itself (a data-modifying CTE, a function).
   */
  statement<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<R[]>;
  /** A connection of its own outside the pool (LISTEN). The caller ends it. */
  dedicated(): Promise<import('pg').Client>;
  end(): Promise<void>;
}

export class PgFault extends Error {
  constructor(readonly code: string, override readonly cause?: unknown) {
    super(`database unavailable (${code})`);
    this.name = 'StoreFault';
  }
}

// SQLSTATE classes of https://www.postgresql.org/docs/15/errcodes-appendix.html that are states of the machine, not
// bugs: 08 connection exception, 53 insufficient resources (disk full, out of memory, too many connections), 57P0x
// shutdown / cannot connect now, 58 system error (I/O), 25006 read-only transaction, 55P03 lock not available,
// 57014 query canceled (our statement_timeout), 40001/40P01 once the retries are used up.
const FAULT_STATE = /^(?:08|53|57P0|58|25006$|55P03$|57014$|40001$|40P01$|3D000$)/;
const SOCKET = /^(?:ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|ECONNABORTED)$/;
const RETRY_STATE = new Set(['40001', '40P01']);

/** A pg or socket error as a fault (PgFault), or the error itself when it is not one. */
export function classify(e: unknown): unknown {
  if (e instanceof PgFault) return e;
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && FAULT_STATE.test(code)) return new PgFault(`PG_${code}`, e);
  if (typeof code === 'string' && SOCKET.test(code)) return new PgFault(`PG_${code}`, e);
  const msg = String((e as Error | null)?.message ?? '');
  // pg's own connection failures carry no code.
  if (/Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end|not queryable/i.test(msg)) {
    return new PgFault('PG_CONNECTION', e);
  }
  return e;
}

const names = new Map<string, string>();
function nameOf(text: string): string {
  let n = names.get(text);
  if (!n) {
    n = `idv_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;
    if (names.size < 5000) names.set(text, n);
  }
  return n;
}

function queryOn(c: { query: Pool['query'] } | PoolClient): Query {
  return {
    async query<R extends QueryResultRow>(text: string, values: unknown[] = []) {
      try {
        return (await c.query<R>({ name: nameOf(text), text, values })).rows;
      } catch (e) {
        throw classify(e);
      }
    },
    async run(text: string, values: unknown[] = []) {
      try {
        return (await c.query({ name: nameOf(text), text, values })).rowCount ?? 0;
      } catch (e) {
        throw classify(e);
      }
    },
  };
}

export interface PgOptions {
  url: string;
  /** Pool size (connections); default 10. */
  max?: number;
  /** Statements longer than this are cancelled (57014, a fault); default 15 s. */
  statementTimeoutMs?: number;
  /** Waiting for a connection from the pool or to the server; default 5 s. */
  connectTimeoutMs?: number;
  applicationName?: string;
  onIdleError?: (e: Error) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function createPg(o: PgOptions): Pg {
  const config: PoolConfig = {
    connectionString: o.url,
    max: o.max ?? 10,
    connectionTimeoutMillis: o.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
    statement_timeout: o.statementTimeoutMs ?? 15_000,
    idle_in_transaction_session_timeout: 30_000,
    application_name: o.applicationName ?? 'idvideo',
  };
  const pool = new Pool(config);
  // An idle connection that breaks (server restart) must not take the process down; the next query reconnects.
  pool.on('error', (e) => o.onIdleError?.(e));
  const direct = queryOn(pool);

  return {
    pool,
    ...direct,
    async tx<T>(fn: (q: Query) => Promise<T>, opts: { serializable?: boolean; retries?: number } = {}): Promise<T> {
      const retries = opts.retries ?? 8;
      for (let attempt = 0; ; attempt++) {
        let client: PoolClient;
        try {
          client = await pool.connect();
        } catch (e) {
          throw classify(e);
        }
        let result: T;
        try {
          await client.query(opts.serializable ? 'BEGIN ISOLATION LEVEL SERIALIZABLE' : 'BEGIN');
          result = await fn(queryOn(client));
          await client.query('COMMIT');
        } catch (e) {
          let broken = false;
          try {
            await client.query('ROLLBACK');
          } catch {
            broken = true;
          }
          client.release(broken);
          const code = (e as { code?: unknown }).code;
          const cause = e instanceof PgFault ? (e.cause as { code?: unknown } | undefined)?.code : code;
          if (typeof cause === 'string' && RETRY_STATE.has(cause) && attempt < retries) {
            // Spread the retries so the same transactions do not collide again in the same order.
            await sleep(Math.floor(Math.random() * (5 + attempt * 10)));
            continue;
          }
          throw classify(e);
        }
        client.release();
        return result;
      }
    },
    async statement<R extends QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
      for (let attempt = 0; ; attempt++) {
        try {
          return await direct.query<R>(text, values);
        } catch (e) {
          const cause = e instanceof PgFault ? (e.cause as { code?: unknown } | undefined)?.code : (e as { code?: unknown }).code;
          if (typeof cause !== 'string' || !RETRY_STATE.has(cause) || attempt >= 8) throw e;
          await sleep(Math.floor(Math.random() * (5 + attempt * 10)));
        }
      }
    },
    async dedicated() {
      const { Client } = await import('pg');
      const c = new Client({ ...config });
      try {
        await c.connect();
      } catch (e) {
        throw classify(e);
      }
      return c;
    },
    async end() {
      await pool.end();
    },
  };
}

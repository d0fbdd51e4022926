import {
  validateEntry,
  validateQuery,
  type ProcessingLog,
  type ProcessingLogEntry,
  type ProcessingLogQuery,
  type ProcessingLogRecord,
} from '../../attributes/processing-log';
import type { Pg } from './client';

interface Row {
  id: string;
  at: string;
  appointment_id: string;
  actor: string;
  action: ProcessingLogRecord['action'];
  purpose: string | null;
  method_id: string | null;
  attribute_keys: string[];
  detail: string | null;
}

function toRecord(r: Row): ProcessingLogRecord {
  return {
    id: Number(r.id),
    at: r.at,
    appointmentId: r.appointment_id,
    actor: r.actor,
    action: r.action,
    purpose: r.purpose,
    methodId: r.method_id,
    attributeKeys: r.attribute_keys,
    detail: r.detail,
  };
}

/** The processing log on PostgreSQL (migrations 004, 006). Append-only: no update, no delete. */
export function createPostgresProcessingLog(pg: Pg, now: () => Date = () => new Date()): ProcessingLog {
  return {
    async record(entry: ProcessingLogEntry) {
      const e = validateEntry(entry, now);
      const [r] = await pg.query<{ id: string }>(
        `INSERT INTO processing_log (at, appointment_id, actor, action, purpose, method_id, attribute_keys, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8) RETURNING id`,
        [e.at, e.appointmentId, e.actor, e.action, e.purpose, e.methodId, JSON.stringify(e.attributeKeys), e.detail],
      );
      return { id: Number(r.id), ...e };
    },
    async list(query: ProcessingLogQuery) {
      const q = validateQuery(query);
      const where: string[] = [];
      const args: (string | number)[] = [];
      if (q.appointmentId !== undefined) where.push(`appointment_id = $${args.push(q.appointmentId)}`);
      if (q.from !== undefined) where.push(`at >= $${args.push(q.from)}`);
      if (q.to !== undefined) where.push(`at < $${args.push(q.to)}`);
      const sql = `SELECT * FROM processing_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at, id LIMIT $${args.push(q.limit)}`;
      return (await pg.query<Row>(sql, args)).map(toRecord);
    },
  };
}

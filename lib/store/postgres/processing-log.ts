import {
  validateEntry,
  validateQuery,
  type ProcessingLog,
  type ProcessingLogEntry,
  type ProcessingLogQuery,
} from '../../attributes/processing-log';
import { toProcessingLogRecord, type ProcessingLogRow } from '../rows';
import type { Pg } from './client';

/** The processing log on PostgreSQL (migrations 004, 006, 009, 011). Append-only: no update, no delete. */
export function createPostgresProcessingLog(pg: Pg, now: () => Date = () => new Date()): ProcessingLog {
  return {
    async record(entry: ProcessingLogEntry) {
      const e = validateEntry(entry, now);
      const [r] = await pg.query<{ id: string }>(
        `INSERT INTO processing_log (at, appointment_id, actor, action, purpose, method_id, attribute_keys, detail,
           trace_id, span_id, parent_span_id, status_code, ended_at, processing_activity_id, data_subject_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`,
        [e.at, e.appointmentId, e.actor, e.action, e.purpose, e.methodId, JSON.stringify(e.attributeKeys), e.detail,
          e.traceId, e.spanId, e.parentSpanId, e.statusCode, e.endedAt, e.processingActivityId, e.dataSubjectId],
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
      if (q.afterId !== undefined) where.push(`id > $${args.push(q.afterId)}`);
      const order = q.afterId !== undefined ? 'id' : 'at, id';
      const sql = `SELECT * FROM processing_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order} LIMIT $${args.push(q.limit)}`;
      return (await pg.query<ProcessingLogRow>(sql, args)).map(toProcessingLogRecord);
    },
  };
}

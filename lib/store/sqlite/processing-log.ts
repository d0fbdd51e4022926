import type { Db } from '../db';
import {
  validateEntry,
  validateQuery,
  type ProcessingLog,
  type ProcessingLogEntry,
  type ProcessingLogQuery,
  type ProcessingLogRecord,
} from '../../attributes/processing-log';
import { toProcessingLogRecord, type ProcessingLogRow } from '../rows';

/** SQLite implementation of the processing log (table from migration 004, Logboek fields from 011). Append-only: no update, no delete. */
export class SqliteProcessingLog implements ProcessingLog {
  constructor(private readonly db: Db, private readonly now: () => Date = () => new Date()) {}

  async record(entry: ProcessingLogEntry): Promise<ProcessingLogRecord> {
    const e = validateEntry(entry, this.now);
    const info = this.db
      .prepare(
        `INSERT INTO processing_log (at, appointment_id, actor, action, purpose, method_id, attribute_keys, detail,
           trace_id, span_id, parent_span_id, status_code, ended_at, processing_activity_id, data_subject_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(e.at, e.appointmentId, e.actor, e.action, e.purpose, e.methodId, JSON.stringify(e.attributeKeys), e.detail,
        e.traceId, e.spanId, e.parentSpanId, e.statusCode, e.endedAt, e.processingActivityId, e.dataSubjectId);
    return { id: Number(info.lastInsertRowid), ...e };
  }

  async list(query: ProcessingLogQuery): Promise<ProcessingLogRecord[]> {
    const q = validateQuery(query);
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.appointmentId !== undefined) {
      where.push('appointment_id = ?');
      args.push(q.appointmentId);
    }
    if (q.from !== undefined) {
      where.push('at >= ?');
      args.push(q.from);
    }
    if (q.to !== undefined) {
      where.push('at < ?');
      args.push(q.to);
    }
    if (q.afterId !== undefined) {
      where.push('id > ?');
      args.push(q.afterId);
    }
    const order = q.afterId !== undefined ? 'id' : 'at, id';
    const sql = `SELECT * FROM processing_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order} LIMIT ?`;
    return (this.db.prepare(sql).all(...args, q.limit) as ProcessingLogRow[]).map(toProcessingLogRecord);
  }
}

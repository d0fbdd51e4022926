import type { ProcessingLogRecord } from '../attributes/processing-log';
import { DATA_SUBJECT_ID_TYPE } from './data-subject';

/**
 * A processing-log record in the shape of the Logboek Dataverwerkingen standard (Logius; "Component: Logboek",
 * interface fields): trace_id, span_id, parent_span_id, name, status_code (0 unset, 1 ok, 2 error), start_time and
 * end_time in milliseconds since the epoch, resource (which system wrote it) and attributes as key-value pairs in the
 * `dpl.` namespace for the standard's own and `idv.` for ours. Names and codes only, as in the log itself: never an
 * attribute value. `dpl.core.data_subject_id` is the keyed pseudonym of the verified BSN (lib/trace/data-subject.ts)
 * on the records from the verification on, with `dpl.core.data_subject_id_type` BSN; never the BSN itself.
 */
export interface LogboekRecord {
  trace_id: string | null;
  span_id: string | null;
  parent_span_id?: string;
  name: string;
  status_code: 0 | 1 | 2;
  start_time: number;
  end_time: number;
  resource: { attributes: { key: string; value: string }[] };
  attributes: { key: string; value: string }[];
}

/** The standard's record for one of ours. `service` names this system in `resource` (e.g. its public host). */
export function toLogboekRecord(r: ProcessingLogRecord, service: { name: string; version: string }): LogboekRecord {
  const attributes: { key: string; value: string }[] = [];
  const add = (key: string, value: string | null | undefined) => {
    if (value !== null && value !== undefined && value !== '') attributes.push({ key, value });
  };
  add('dpl.core.processing_activity_id', r.processingActivityId);
  if (r.dataSubjectId) {
    add('dpl.core.data_subject_id', r.dataSubjectId);
    add('dpl.core.data_subject_id_type', DATA_SUBJECT_ID_TYPE);
  }
  add('idv.appointment_id', r.appointmentId);
  add('idv.actor', r.actor);
  add('idv.purpose', r.purpose);
  add('idv.method_id', r.methodId);
  add('idv.attribute_keys', r.attributeKeys.length ? r.attributeKeys.join(',') : undefined);
  add('idv.detail', r.detail);
  const start = Date.parse(r.at);
  const end = r.endedAt ? Date.parse(r.endedAt) : start;
  return {
    trace_id: r.traceId,
    span_id: r.spanId,
    ...(r.parentSpanId ? { parent_span_id: r.parentSpanId } : {}),
    name: `idv.${r.action}`,
    status_code: r.statusCode ?? (r.action === 'failed' ? 2 : 1),
    start_time: start,
    end_time: end,
    resource: { attributes: [{ key: 'service.name', value: service.name }, { key: 'service.version', value: service.version }] },
    attributes,
  };
}

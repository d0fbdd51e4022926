import { validateSchedule } from '../../lib/appointments/schedule';
import type { ScheduleNode } from '../common/config-nodes';
import type { NodeAPI, NodeDef } from '../common/node-red';

const FIELDS = ['openingHours', 'slotMinutes', 'bufferMinutes', 'minNoticeMinutes', 'horizonDays', 'closingDays', 'dutchHolidays', 'liberationDay', 'agents'] as const;

/** Config node: opening hours, slot rules, closing days and agents. Nodes that book read `schedule` from it. */
export = function register(RED: NodeAPI): void {
  function IdvSchedule(this: ScheduleNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const raw: Record<string, unknown> = {};
    for (const f of FIELDS) {
      const v = def[f];
      if (v === undefined || v === '') continue;
      // Numbers come from the editor as strings.
      raw[f] = ['slotMinutes', 'bufferMinutes', 'minNoticeMinutes', 'horizonDays'].includes(f) && typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
    }
    const result = validateSchedule(raw);
    if ('schedule' in result) {
      this.schedule = result.schedule;
      this.problems = [];
    } else {
      this.problems = result.errors;
      this.error(`idv-schedule: ${result.errors.join('; ')}`);
    }
  }
  RED.nodes.registerType('idv-schedule', IdvSchedule);
};

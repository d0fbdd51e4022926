import { validateSchedule } from '../../lib/appointments/schedule';
import { scheduleInput } from '../../lib/node-config/validate';
import type { ScheduleNode } from '../common/config-nodes';
import type { NodeAPI, NodeDef } from '../common/node-red';
import { currentSettings } from '../common/settings';

/** Config node: opening hours, slot rules, closing days and agents. Nodes that book read `schedule` from it. */
export = function register(RED: NodeAPI): void {
  function IdvSchedule(this: ScheduleNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const result = validateSchedule(scheduleInput(currentSettings(this, def)));
    if ('schedule' in result) {
      this.schedule = result.schedule;
      this.problems = [];
    } else {
      // A config node stays quiet: the nodes that use it report its problems (an unused one bothers nobody).
      this.problems = result.errors;
    }
  }
  RED.nodes.registerType('idv-schedule', IdvSchedule);
};

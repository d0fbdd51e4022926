// Open around the clock: a test that books "the second day offered" finds a full day at any hour, on any weekday
// and across DST (the first day offered may hold a single slot late in the evening).
const everyDay = [{ from: '00:00', to: '24:00' }];

/**
 * The configuration every e2e flow file needs: a tab `tab`, settings `settings` (Gemeente Testdorp) and a schedule
 * `schedule` open around the clock every day with agent1 (Anna de Vries). Tests add their own nodes, so they do not depend
 * on what flows/flows.json holds today.
 */
export function baseFlows(label: string): Record<string, unknown>[] {
  return [
    { id: 'tab', type: 'tab', label },
    { id: 'settings', type: 'idv-settings', z: 'tab', municipality: 'Gemeente Testdorp', publicUrl: '', fromAddress: 'video@testdorp.example', attributeTtlMinutes: 15 },
    {
      id: 'schedule',
      type: 'idv-schedule',
      z: 'tab',
      openingHours: { mon: everyDay, tue: everyDay, wed: everyDay, thu: everyDay, fri: everyDay, sat: everyDay, sun: everyDay },
      slotMinutes: 30,
      minNoticeMinutes: 60,
      horizonDays: 30,
      dutchHolidays: false,
      agents: [{ username: 'agent1', displayName: 'Anna de Vries' }],
    },
  ];
}

const everyDay = [{ from: '09:00', to: '17:00' }];

/**
 * The configuration every e2e flow file needs: a tab `tab`, settings `settings` (Gemeente Testdorp) and a schedule
 * `schedule` open 09:00–17:00 every day with agent1 (Anna de Vries). Tests add their own nodes, so they do not depend
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

/**
 * Statistics for the KCC manager (issue 14, point 6): counts and durations per period, never a name, address, BSN or
 * appointment id. Cells that could point at one person are suppressed by the page (lib/statistics/suppress.ts).
 */
export type Period = 'day' | 'week';

/** One count in one period for one key (a channel, a topic, an outcome, a method). */
export interface CountRow {
  /** Period start, local date YYYY-MM-DD (Europe/Amsterdam; weeks start on Monday). */
  period: string;
  key: string;
  count: number;
}

/** A duration measure in one period: how many, and their median in seconds. */
export interface DurationRow {
  period: string;
  count: number;
  medianSeconds: number;
}

/** Connection quality of one side in one period: how many calls reported, and the share of their time per state. */
export interface QualityRow {
  period: string;
  side: QualitySide;
  /** Calls (appointments) this side reported on. */
  calls: number;
  /** Whole percentages of the reported time: good, degraded (fair or poor), no media. */
  goodPct: number;
  poorPct: number;
  nonePct: number;
}

export type QualitySide = 'resident' | 'agent';

/** What one page reports at the end of (a part of) a call: milliseconds per state, nothing else. */
export interface QualityReport {
  goodMs: number;
  /** Fair or poor (web/call-client.ts: 2 % loss or 250 ms round trip and worse). */
  poorMs: number;
  /** Connected to the call but no media measured (the other side absent, or nothing arriving). */
  noneMs: number;
}

export interface StatisticsQuery {
  /** UTC bounds of the whole range [fromUtc, toUtc). */
  fromUtc: string;
  toUtc: string;
  /** Local period start (YYYY-MM-DD) of a UTC ISO instant. */
  periodOf(utcIso: string): string;
}

export interface Statistics {
  bookingsByChannel: CountRow[];
  bookingsByTopic: CountRow[];
  cancellations: CountRow[];
  /** Appointments (by start) that were moved at least once. */
  moved: CountRow[];
  outcomes: CountRow[];
  /** From the resident's first arrival to the agent's first arrival, where the resident came first. */
  waiting: DurationRow[];
  callDuration: DurationRow[];
  identificationRequests: CountRow[];
  identificationSuccesses: CountRow[];
  quality: QualityRow[];
}

/** Reads the raw facts the statistics are made of (rows without any personal field); lib/store/sqlite/statistics.ts. */
export interface StatisticsStore {
  /** Instants (UTC ISO) with their key for each kind of fact in [fromUtc, toUtc). */
  facts(fromUtc: string, toUtc: string): Promise<StatisticsFacts>;
  /**
   * Adds a page's quality report to the appointment's figures for that side (call_quality, migration 015): a reload
   * or a second call adds up. Aggregate milliseconds only; nothing about who or what was said.
   */
  recordQuality(appointmentId: string, side: QualitySide, report: QualityReport, atIso: string): Promise<void>;
}

export interface StatisticsFacts {
  bookings: { at: string; channel: string; topic: string }[];
  cancellations: { at: string; by: 'resident' | 'staff' }[];
  moved: { at: string }[];
  outcomes: { at: string; outcome: string; durationSeconds: number | null }[];
  waits: { at: string; seconds: number }[];
  identifications: { at: string; method: string; verified: boolean }[];
  /** Per appointment (by its start) and side: milliseconds per state. */
  quality: ({ at: string; side: QualitySide } & QualityReport)[];
}

/**
 * How an appointment ended (issue 14, point 4). Recorded from what the store already knows: the call's end (with its
 * duration), who joined (the processing log's participant_joined lines), and the cancellation (and by whom).
 */
export type OutcomeCode = 'completed' | 'resident_no_show' | 'agent_no_show' | 'cancelled';
export const OUTCOME_CODES: readonly OutcomeCode[] = ['completed', 'resident_no_show', 'agent_no_show', 'cancelled'];

export interface Outcome {
  appointmentId: string;
  outcome: OutcomeCode;
  /** Completed calls: seconds both sides were in the call (summed over a reconnect); null when unknown. */
  durationSeconds: number | null;
  /** Cancelled: 'resident' (through the mail's link) or 'staff' (KCC or the flow); null otherwise. */
  cancelledBy: 'resident' | 'staff' | null;
  decidedAt: string;
}

/** Persistence of outcomes; async so PostgreSQL can replace SQLite (lib/store/sqlite/outcomes.ts). */
export interface OutcomeStore {
  /** A call of the appointment ended after `durationSeconds`: 'completed', durations of several calls added up. */
  recordCall(appointmentId: string, durationSeconds: number, nowIso: string): Promise<Outcome>;
  /**
   * Decides, in one transaction, the outcome of at most `limit` appointments without one whose end lies in
   * [sinceIso, cutoffIso]: cancelled (by whom), else from who joined — the resident never: resident_no_show; the
   * resident but no agent: agent_no_show; both without a recorded end (the runtime stopped mid-call): completed
   * with an unknown duration. Returns what it decided.
   */
  decideEnded(sinceIso: string, cutoffIso: string, nowIso: string, limit: number): Promise<Outcome[]>;
  /** The outcomes of these appointments (those decided). */
  forAppointments(ids: readonly string[]): Promise<Map<string, Outcome>>;
}

/**
 * What a call page says, as one state machine: every status text, heading and section of the resident's page (and the
 * agent's call status) is derived from `CallStatus`, never set on the side, so no text can outlive the state it
 * describes ("De medewerker ziet nu uw gegevens" after the data went, "De medewerker is in het gesprek" after one's own
 * hang-up). Pure: no DOM, no timers; the browser scripts (web/call.ts, web/agent.ts) feed it events and render `view()`.
 */

/** The resident, the employee, or a third participant (interpreter, family member) the employee lets in. */
export type CallRole = 'resident' | 'agent' | 'guest';

export type Phase =
  /** The resident checks camera and microphone; nothing is connected yet. */
  | 'devices'
  /** Connecting to the call (signaling and media). */
  | 'connecting'
  /** A guest is connected and waits until the employee lets them in. */
  | 'lobby'
  /** In the call, the other side has not come yet. */
  | 'waiting'
  /** Both are in the call. */
  | 'inCall'
  /** The other side was here and went without ending the call (stepped away, or their connection dropped). */
  | 'otherAway'
  /** Our own connection is being restored. */
  | 'reconnecting'
  | 'ended'
  /** This page was replaced by the same person's newer page (another tab or device). */
  | 'replaced'
  | 'failed';

/**
 * Who ended the call: this page's own hang-up, the agent's "Ophangen" (end for both), the application, or (for a guest)
 * the employee who removed them.
 */
export type EndedBy = 'self' | 'agent' | 'system' | 'removed';
export type AwayReason = 'left' | 'disconnected';
/** The resident's verified data as far as the resident can know: not shared, shown to the agent now, deleted. */
export type IdentificationState = 'none' | 'shared' | 'deleted';

export interface CallStatus {
  readonly role: CallRole;
  readonly phase: Phase;
  /** The other side is in the call right now. */
  readonly otherHere: boolean;
  /** The other side was in this call at some moment (tells "not come yet" from "went away"). */
  readonly otherSeen: boolean;
  readonly awayReason?: AwayReason;
  readonly endedBy?: EndedBy;
  readonly identification: IdentificationState;
  /** Set for one state after our connection came back, so the page can say "Verbinding hersteld". */
  readonly recovered: boolean;
}

export type StatusEvent =
  /** The resident leaves the device check (or the agent opens a call). */
  | { type: 'connect' }
  /** Joined the call's room (first time or after a reconnect); `otherHere` as the join answer said. */
  | { type: 'joined'; otherHere?: boolean }
  | { type: 'reconnecting' }
  /** The other side joined or went; `reason` from the server's peerLeft (left, disconnected, replaced). */
  | { type: 'peer'; present: boolean; reason?: string }
  /** This page's own "Ophangen". */
  | { type: 'hangUp' }
  /** The server closed the call; `by: 'agent'` when the agent ended it for both, 'removed' when a guest was sent out. */
  | { type: 'ended'; by?: string }
  /** A guest's connection is up and waits to be let in. */
  | { type: 'lobby' }
  | { type: 'replaced' }
  | { type: 'failed' }
  /** Whether the agent can see verified data of this call now (from the identification script's polling). */
  | { type: 'identification'; shared: boolean };

const TERMINAL: readonly Phase[] = ['ended', 'replaced', 'failed'];

export function initialStatus(role: CallRole): CallStatus {
  return { role, phase: role === 'agent' ? 'connecting' : 'devices', otherHere: false, otherSeen: false, identification: 'none', recovered: false };
}

function settled(s: CallStatus, otherHere: boolean): Phase {
  if (otherHere) return 'inCall';
  return s.otherSeen ? 'otherAway' : 'waiting';
}

/** The next state. Terminal states (ended, replaced, failed) stay as they are whatever arrives late. */
export function nextStatus(s: CallStatus, e: StatusEvent): CallStatus {
  if (TERMINAL.includes(s.phase)) return s;
  const base: CallStatus = { ...s, recovered: false };
  switch (e.type) {
    case 'connect':
      return s.phase === 'devices' ? { ...base, phase: 'connecting' } : base;
    case 'joined': {
      if (s.phase === 'devices') return base;
      // The media settling after the join answer (state 'joined' again) changes nothing that was already said.
      if (e.otherHere === undefined && s.phase !== 'connecting' && s.phase !== 'reconnecting') return s;
      const otherHere = e.otherHere ?? s.otherHere;
      const otherSeen = s.otherSeen || otherHere;
      const next = { ...base, otherHere, otherSeen, awayReason: otherHere ? undefined : s.awayReason };
      return { ...next, phase: settled(next, otherHere), recovered: s.phase === 'reconnecting' };
    }
    case 'reconnecting':
      return s.phase === 'devices' ? base : { ...base, phase: 'reconnecting' };
    case 'lobby':
      return s.phase === 'connecting' || s.phase === 'reconnecting' ? { ...base, phase: 'lobby' } : base;
    case 'peer': {
      if (e.present) {
        const next = { ...base, otherHere: true, otherSeen: true, awayReason: undefined };
        return s.phase === 'waiting' || s.phase === 'otherAway' || s.phase === 'inCall' ? { ...next, phase: 'inCall' } : next;
      }
      const awayReason: AwayReason = e.reason === 'left' ? 'left' : 'disconnected';
      const next = { ...base, otherHere: false, awayReason: s.otherSeen ? awayReason : undefined };
      return s.phase === 'inCall' ? { ...next, phase: 'otherAway' } : next;
    }
    case 'hangUp':
      return end(base, 'self');
    case 'ended':
      if (e.by === 'removed' && s.role === 'guest') return end(base, 'removed');
      return end(base, e.by === 'agent' ? (s.role === 'agent' ? 'self' : 'agent') : 'system');
    case 'replaced':
      return { ...base, phase: 'replaced', otherHere: false, identification: s.identification === 'shared' ? 'deleted' : s.identification };
    case 'failed':
      return { ...base, phase: 'failed', otherHere: false };
    case 'identification':
      if (e.shared) return { ...base, identification: 'shared' };
      return { ...base, identification: s.identification === 'none' ? 'none' : 'deleted' };
  }
}

function end(s: CallStatus, by: EndedBy): CallStatus {
  // Ending the call deletes verified data (lib/identification: call end), so "shared" cannot survive it.
  return { ...s, phase: 'ended', endedBy: by, otherHere: false, identification: s.identification === 'shared' ? 'deleted' : s.identification };
}

/** Keys into the page's texts (lib/call-pages/texts.ts CLIENT) — the view names them, the page looks them up. */
export interface StatusView {
  /** Which section of the resident's page shows. */
  section: 'device-check' | 'waiting' | 'call' | 'ended';
  /** The one-line status in the live region; undefined while the device check speaks for itself. */
  status?: string;
  /** Heading and text of the waiting or ended section. */
  heading?: string;
  body?: string;
  /** The line about the verified data; undefined when nothing was shared. */
  identification?: string;
  /** Whether "Opnieuw deelnemen" is offered (the ended section). */
  canRejoin: boolean;
}

function otherWord(role: CallRole): 'agent' | 'resident' {
  return role === 'agent' ? 'resident' : 'agent';
}

export function statusView(s: CallStatus): StatusView {
  const other = otherWord(s.role);
  const identification = s.identification === 'shared' ? 'identShared' : s.identification === 'deleted' ? 'identDeleted' : undefined;
  const base = { identification, canRejoin: false };
  switch (s.phase) {
    case 'devices':
      return { ...base, section: 'device-check' };
    case 'connecting':
      return { ...base, section: 'waiting', status: 'connecting', heading: s.role === 'guest' ? 'lobbyHeading' : 'waitingHeading', body: s.role === 'guest' ? 'lobbyText' : 'waitingText' };
    case 'lobby':
      return { ...base, section: 'waiting', status: 'lobby', heading: 'lobbyHeading', body: 'lobbyText' };
    case 'waiting':
      return { ...base, section: 'waiting', status: s.role === 'agent' ? 'waitingForResident' : 'waiting', heading: 'waitingHeading', body: 'waitingText' };
    case 'inCall':
      return { ...base, section: 'call', status: s.recovered ? 'reconnected' : `${other}Joined` };
    case 'otherAway': {
      const key = `${other}${s.awayReason === 'left' ? 'Left' : 'Disconnected'}`;
      // The resident waits in the waiting room again, told that the employee is coming back; the agent keeps the stage.
      return s.role !== 'agent'
        ? { ...base, section: 'waiting', status: key, heading: 'awayHeading', body: `${key}Text` }
        : { ...base, section: 'call', status: key };
    }
    case 'reconnecting':
      // What the page showed before, with the reconnect status over it.
      return { ...statusView({ ...s, phase: settled(s, s.otherHere), recovered: false }), status: 'reconnecting' };
    case 'ended': {
      if (s.endedBy === 'removed') return { ...base, section: 'ended', status: 'endedRemoved', heading: 'endedHeadingRemoved', body: 'endedTextRemoved', canRejoin: false };
      const by = s.endedBy === 'agent' ? 'ByAgent' : s.endedBy === 'self' ? 'BySelf' : '';
      return { ...base, section: 'ended', status: `ended${by}`, heading: `endedHeading${by}`, body: `endedText${by}`, canRejoin: s.role !== 'agent' };
    }
    case 'replaced':
      return { ...base, section: 'ended', status: 'replaced', heading: 'endedHeading', body: 'replaced', canRejoin: s.role !== 'agent' };
    case 'failed':
      return { ...base, section: 'ended', status: 'failed', heading: 'failedHeading', body: 'failed', canRejoin: s.role !== 'agent' };
  }
}

/**
 * Renders the call's state machine (lib/call-pages/call-status.ts) into a page: the status line (live region), the
 * line about verified data, and on the resident's page the section (device check, waiting room, call, end) with its
 * heading and text. Every text comes from the current state; nothing is announced on the side.
 */
import { initialStatus, nextStatus, statusView, type CallRole, type CallStatus, type StatusEvent, type StatusView } from '../../lib/call-pages/call-status';
import { announce, type Texts } from '../call-client';

export interface CallStatusController {
  dispatch(e: StatusEvent): void;
  readonly state: CallStatus;
}

const SECTIONS = ['device-check', 'waiting', 'call', 'ended'] as const;
const FOCUS: Record<(typeof SECTIONS)[number], string> = { 'device-check': '', waiting: 'waiting-heading', call: 'call-heading', ended: 'ended-heading' };

function setText(id: string, text: string | undefined): void {
  const el = document.getElementById(id);
  if (el && el.textContent !== (text ?? '')) el.textContent = text ?? '';
}

/**
 * `sections`: the page has the resident's four sections and shows one at a time. `onView` runs after each render
 * (e.g. to stop the camera once the call ended).
 */
export function createCallStatus(role: CallRole, t: Texts, o: { sections: boolean; onView?(v: StatusView, s: CallStatus): void }): CallStatusController {
  let state = initialStatus(role);
  let shown: StatusView | undefined;

  const render = () => {
    const v = statusView(state);
    if (v.status && v.status !== shown?.status) announce(t[v.status] ?? '');
    setText('identification-status', v.identification ? t[v.identification] : '');
    if (o.sections) {
      document.body.dataset.callSection = v.section;
      for (const s of SECTIONS) {
        const el = document.getElementById(s);
        if (el) el.hidden = s !== v.section;
      }
      if (v.section === 'waiting') {
        setText('waiting-heading', t[v.heading ?? 'waitingHeading']);
        setText('waiting-text', t[v.body ?? 'waitingText']);
      } else if (v.section === 'ended') {
        setText('ended-heading', t[v.heading ?? 'endedHeading']);
        setText('ended-text', t[v.body ?? 'endedText']);
        for (const id of ['rejoin', 'ended-rejoin-hint']) {
          const el = document.getElementById(id);
          if (el) el.hidden = !v.canRejoin;
        }
      }
      // Moving focus to the new heading tells screen-reader and keyboard users that the page changed under them.
      if (shown && v.section !== shown.section && FOCUS[v.section]) document.getElementById(FOCUS[v.section])?.focus();
    }
    shown = v;
    o.onView?.(v, state);
  };

  render();
  return {
    dispatch(e) {
      const next = nextStatus(state, e);
      if (next === state) return;
      state = next;
      render();
    },
    get state() {
      return state;
    },
  };
}

/**
 * What the call stage shows about the media itself, beside the controls lib/call-pages/stage.ts renders: a
 * "Camera uit" placeholder over the other side's picture when they send no video, a button to start the sound when
 * the browser blocked autoplay, and an alert when no media gets through. Made here (not in the server markup) so the
 * stage's layout can change without touching media logic; the classes are the hooks for styling.
 */
import type { MediaProblemKind } from './media-health';

export type Texts = Record<string, string>;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

export interface MediaNotices {
  /** The other side sends video (true) or not: no camera, camera off, not there yet. */
  remoteVideo(on: boolean): void;
  /** Plays the remote stream; when the browser refuses sound without a click, plays muted and offers the button. */
  play(): void;
  problem(kind: MediaProblemKind | undefined): void;
}

export function mediaNotices(remote: HTMLVideoElement, t: Texts): MediaNotices {
  const stage = remote.parentElement ?? document.body;
  const placeholder = el('p', 'utrecht-paragraph idv-camera-off', t.remoteCameraOff ?? 'Camera uit');
  placeholder.hidden = true;
  const unmute = el('button', 'utrecht-button utrecht-button--primary-action idv-unmute', t.unmuteRemote ?? 'Klik om geluid aan te zetten');
  unmute.type = 'button';
  unmute.hidden = true;
  stage.append(placeholder, unmute);
  const alert = el('div', 'utrecht-alert utrecht-alert--error idv-media-problem');
  alert.setAttribute('role', 'alert');
  alert.hidden = true;
  const alertText = el('p', 'utrecht-paragraph');
  alert.append(alertText);
  stage.before(alert);

  let current: MediaProblemKind | undefined;
  const tryPlay = (): void => {
    void remote.play().then(
      () => {
        if (!remote.muted) unmute.hidden = true;
      },
      (e: unknown) => {
        if ((e as DOMException)?.name !== 'NotAllowedError') return;
        // Autoplay with sound refused: the picture may still run muted, the button brings the sound.
        remote.muted = true;
        unmute.hidden = false;
        void remote.play().catch(() => undefined);
      },
    );
  };
  unmute.addEventListener('click', () => {
    remote.muted = false;
    unmute.hidden = true;
    tryPlay();
  });
  return {
    remoteVideo(on) {
      placeholder.hidden = on;
    },
    play: tryPlay,
    problem(kind) {
      if (kind === current) return;
      current = kind;
      alert.hidden = !kind;
      alertText.textContent = kind ? (t[kind] ?? '') : '';
    },
  };
}

import { html, type SafeHtml } from '../http/html';
import type { Lang } from '../http/lang';
import { STAGE } from './texts';

/**
 * The call itself, the same markup for resident and agent (web/call-client.ts drives it by these ids): the other
 * side large, the own view small, the controls, the connection quality and the reconnect banner. The videos carry
 * no captions: this is live conversation between two people, not prerecorded media.
 */
export function callStage(lang: Lang, remoteLabel: string): SafeHtml {
  const t = STAGE[lang];
  return html`<div id="reconnecting" class="utrecht-alert utrecht-alert--warning idv-banner" role="alert" hidden>
  <p class="utrecht-paragraph">${t.reconnecting}</p>
</div>
<div class="idv-stage">
  <video id="remote-video" class="idv-remote-video" autoplay playsinline aria-label="${remoteLabel}"></video>
  <video id="local-video" class="idv-local-video" autoplay muted playsinline aria-label="${t.localVideo}"></video>
</div>
<div class="idv-controls" role="group" aria-label="${t.controls}">
  <button type="button" id="toggle-mic" class="utrecht-button utrecht-button--secondary-action" aria-pressed="false">${t.mute}</button>
  <button type="button" id="toggle-camera" class="utrecht-button utrecht-button--secondary-action" aria-pressed="false">${t.camera}</button>
  <button type="button" id="hang-up" class="utrecht-button utrecht-button--primary-action utrecht-button--danger idv-hang-up">${t.hangUp}</button>
  <p class="utrecht-paragraph idv-quality">${t.quality} <span id="quality" data-quality="unknown">${t.qualityUnknown}</span></p>
</div>`;
}

import { html, type SafeHtml } from '../http/html';
import type { Lang } from '../http/lang';
import { RESIDENT_EXTRAS, STAGE } from './texts';

/**
 * The call itself, the same markup for resident and agent (web/call-client.ts drives it by these ids): the other
 * side large, the own view small, the controls, the connection quality and the reconnect banner. The videos carry
 * no captions: this is live conversation between two people, not prerecorded media.
 */
export function callStage(lang: Lang, remoteLabel: string, o: { screenShare?: boolean } = {}): SafeHtml {
  const t = STAGE[lang];
  return html`<div id="reconnecting" class="utrecht-alert utrecht-alert--warning idv-banner" role="alert" hidden>
  <p class="utrecht-paragraph">${t.reconnecting}</p>
</div>
<div class="idv-stage">
  <video id="remote-video" class="idv-remote-video" autoplay playsinline aria-label="${remoteLabel}"></video>
  <div id="remote-extra" class="idv-remote-extra"></div>
  <video id="local-video" class="idv-local-video" autoplay muted playsinline aria-label="${t.localVideo}"></video>
</div>
<div class="idv-controls" role="group" aria-label="${t.controls}">
  <button type="button" id="toggle-mic" class="utrecht-button utrecht-button--secondary-action" aria-pressed="false">${t.mute}</button>
  <button type="button" id="toggle-camera" class="utrecht-button utrecht-button--secondary-action" aria-pressed="false">${t.camera}</button>
  ${o.screenShare ? html`<button type="button" id="share-screen" class="utrecht-button utrecht-button--secondary-action" aria-pressed="false">${t.shareScreen}</button>` : ''}
  <button type="button" id="hang-up" class="utrecht-button utrecht-button--primary-action utrecht-button--danger idv-hang-up">${t.hangUp}</button>
  <p class="utrecht-paragraph idv-quality">${t.quality} <span id="quality" data-quality="unknown">${t.qualityUnknown}</span></p>
</div>`;
}

/**
 * The resident's "Document of foto delen": a photo from the phone's camera or a file (JPEG, PNG, PDF up to 10 MB).
 * Real buttons open the (hidden) file inputs, so keyboard and screen-reader users reach them like any button.
 */
export function documentsSection(lang: Lang): SafeHtml {
  const t = RESIDENT_EXTRAS[lang];
  return html`<section id="documents" class="idv-documents" aria-labelledby="documents-heading">
  <h3 id="documents-heading" class="utrecht-heading-3">${t.docHeading}</h3>
  <p class="utrecht-paragraph">${t.docIntro}</p>
  <p class="idv-actions">
    <button type="button" id="doc-camera-button" class="utrecht-button utrecht-button--secondary-action">${t.docCamera}</button>
    <button type="button" id="doc-file-button" class="utrecht-button utrecht-button--secondary-action">${t.docFile}</button>
  </p>
  <input type="file" id="doc-camera" accept="image/jpeg,image/png" capture="environment" hidden>
  <input type="file" id="doc-file" accept="image/jpeg,image/png,application/pdf,.jpg,.jpeg,.png,.pdf" hidden>
  <p id="doc-result" class="utrecht-paragraph idv-doc-result" role="status" aria-live="polite"></p>
  <ul id="doc-list" class="utrecht-unordered-list idv-doc-list" aria-label="${t.docListHeading}" hidden></ul>
</section>`;
}

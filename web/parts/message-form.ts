/**
 * The agent's short message to a resident ("Ik kom over 5 minuten bij u"): a small form on the dashboard row. The
 * server checks length and rate and pushes it to the resident's call page (lib/call/agent-messages.ts); this form only
 * posts it and says whether the resident has it on screen or will see it on arrival.
 */
import type { Texts } from '../call-client';

export function messageForm(appointmentId: string, t: Texts, csrf: () => string): HTMLFormElement {
  const id = `message-${appointmentId}`;
  const form = document.createElement('form');
  form.className = 'idv-message-form';
  form.noValidate = true;
  const label = document.createElement('label');
  label.className = 'utrecht-form-label';
  label.htmlFor = id;
  label.textContent = t.messageLabel ?? '';
  const hint = document.createElement('p');
  hint.className = 'utrecht-form-field-description';
  hint.id = `${id}-hint`;
  hint.textContent = t.messageHint ?? '';
  const row = document.createElement('div');
  row.className = 'idv-message-row';
  const input = document.createElement('input');
  input.className = 'utrecht-textbox utrecht-textbox--html-input';
  input.id = id;
  input.name = 'text';
  input.type = 'text';
  input.maxLength = 200;
  input.autocomplete = 'off';
  input.value = t.messageSuggestion ?? '';
  input.setAttribute('aria-describedby', `${id}-hint ${id}-result`);
  const send = document.createElement('button');
  send.type = 'submit';
  send.className = 'utrecht-button utrecht-button--secondary-action';
  send.textContent = t.messageSend ?? '';
  row.append(input, send);
  const result = document.createElement('p');
  result.className = 'utrecht-paragraph idv-message-result';
  result.id = `${id}-result`;
  result.setAttribute('role', 'status');
  form.append(label, hint, row, result);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    send.disabled = true;
    void (async () => {
      try {
        const res = await fetch(`agent/appointments/${encodeURIComponent(appointmentId)}/message`, {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrf() },
          body: JSON.stringify({ text: input.value }),
        });
        const body = (await res.json().catch(() => ({}))) as { delivered?: number; message?: string };
        const ok = res.ok;
        result.textContent = ok ? ((body.delivered ?? 0) > 0 ? t.messageSent : t.messageKept) ?? '' : body.message ?? t.messageFailed ?? '';
        input.setAttribute('aria-invalid', String(!ok && res.status === 400));
        input.classList.toggle('utrecht-textbox--invalid', !ok && res.status === 400);
      } catch {
        result.textContent = t.messageFailed ?? '';
      } finally {
        send.disabled = false;
      }
    })();
  });
  return form;
}

// Enhancements for the booking form; the form works fully without them (server-rendered, plain POST).
document.addEventListener('DOMContentLoaded', () => {
  const form = document.querySelector<HTMLFormElement>('form.idv-booking-form');
  if (!form) return;

  // A second click while the first submit is on its way would only produce the same booking; say it is busy instead.
  // The review form has two buttons (confirm, change): the pressed one's name and value are already in the submitted
  // data when the timeout runs, so both can be disabled.
  form.addEventListener('submit', (e) => {
    const pressed = (e as SubmitEvent).submitter;
    window.setTimeout(() => {
      for (const button of form.querySelectorAll<HTMLButtonElement>('button[type="submit"]')) {
        button.disabled = true;
        if (button === pressed || !pressed) button.setAttribute('aria-busy', 'true');
      }
    }, 0);
  });

  // Characters left in the remarks, announced politely and only after typing pauses.
  const remarks = form.querySelector<HTMLTextAreaElement>('#remarks');
  if (remarks) {
    const max = Number(remarks.getAttribute('maxlength') || '1000');
    const lang = document.documentElement.lang === 'en' ? 'en' : 'nl';
    const counter = document.createElement('p');
    counter.id = 'remarks-counter';
    counter.className = 'utrecht-form-field-description idv-counter';
    counter.setAttribute('aria-live', 'polite');
    remarks.insertAdjacentElement('afterend', counter);
    let timer = 0;
    const update = () => {
      const left = max - [...remarks.value].length;
      counter.textContent = lang === 'en' ? `${left} characters left` : `Nog ${left} tekens over`;
    };
    update();
    remarks.addEventListener('input', () => {
      window.clearTimeout(timer);
      timer = window.setTimeout(update, 600);
    });
  }
});

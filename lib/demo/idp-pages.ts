/**
 * The demo IdP's own pages (choose a test person, consent). Deliberately plain and self-contained: no scripts, no
 * inline styles, so they pass the same CSP and accessibility checks as the rest, and every value is escaped.
 */

export function esc(v: string): string {
  return v.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="nl">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title></head>
<body>
<header><p role="note"><strong>TEST — geen echte DigiD.</strong> Deze inlogpagina hoort bij de demo van ID Video en gebruikt verzonnen testpersonen.</p></header>
<main>
<h1>${esc(title)}</h1>
${body}
</main>
</body>
</html>`;
}

export interface LoginChoice {
  id: string;
  name: string;
}

export function loginPage(uid: string, clientName: string, persons: LoginChoice[], acrOptions: string[], defaultAcr: string): string {
  const radios = persons
    .map(
      (p, i) =>
        `<div><input type="radio" id="p-${esc(p.id)}" name="account" value="${esc(p.id)}"${i === 0 ? ' checked' : ''}>` +
        ` <label for="p-${esc(p.id)}">${esc(p.name)}</label></div>`,
    )
    .join('\n');
  const acr = acrOptions
    .map((a) => `<option value="${esc(a)}"${a === defaultAcr ? ' selected' : ''}>${esc(a)}</option>`)
    .join('');
  return page(
    'Inloggen met een testpersoon',
    `<p>${esc(clientName)} vraagt u om in te loggen.</p>
<form method="post" action="/interaction/${esc(uid)}/login">
<fieldset><legend>Kies een testpersoon</legend>
${radios}
</fieldset>
<div><label for="acr">Betrouwbaarheidsniveau (acr)</label>
<select id="acr" name="acr">${acr}</select></div>
<div><button type="submit" name="do" value="login">Inloggen</button>
<button type="submit" name="do" value="cancel">Annuleren</button></div>
</form>`,
  );
}

export function consentPage(uid: string, clientName: string, claimNames: string[]): string {
  const list = claimNames.length ? `<ul>${claimNames.map((c) => `<li>${esc(c)}</li>`).join('')}</ul>` : '<p>Alleen uw inlog.</p>';
  return page(
    'Gegevens delen',
    `<p>${esc(clientName)} vraagt om deze gegevens:</p>
${list}
<form method="post" action="/interaction/${esc(uid)}/confirm">
<div><button type="submit" name="do" value="allow">Toestaan</button>
<button type="submit" name="do" value="cancel">Weigeren</button></div>
</form>`,
  );
}

export function errorPage(message: string): string {
  return page('Er ging iets mis', `<p>${esc(message)}</p>`);
}

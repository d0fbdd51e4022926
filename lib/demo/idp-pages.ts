/**
 * The demo IdP's own pages (choose a test person, consent). Deliberately plain and self-contained: no scripts, no
 * inline styles, so they pass the same CSP and accessibility checks as the rest, and every value is escaped.
 */

export function esc(v: string): string {
  return v.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** Where the IdP serves its own stylesheet (its pages live on its own origin, so ours is not theirs to load). */
export const IDP_CSS_PATH = '/demo-idp.css';

/**
 * The test provider's look: deliberately not a municipality's (no logo, a yellow TEST band), with controls that look
 * like what they are (a filled dot for the chosen person, visible focus), 44 px targets and no sideways scrolling.
 */
export const IDP_CSS = `
html { font-family: system-ui, sans-serif; font-size: 100%; line-height: 1.5; color: #1a1a1a; background: #fff; }
body { margin: 0; }
header { background: #ffe16b; border-block-end: 4px solid #1a1a1a; padding: 0.75rem 1rem; }
header p { margin: 0; max-width: 40rem; }
main { max-width: 40rem; margin: 0 auto; padding: 1rem; box-sizing: border-box; }
h1 { font-size: 1.75rem; line-height: 1.2; margin: 1rem 0; }
fieldset { border: 0; padding: 0; margin: 0 0 1rem; min-inline-size: 0; }
legend { font-weight: bold; margin-block-end: 0.5rem; }
.choice { display: flex; align-items: center; gap: 0.75rem; min-block-size: 44px; }
.choice label { flex: 1; padding-block: 0.5rem; cursor: pointer; }
input[type=radio] { appearance: none; flex: none; width: 24px; height: 24px; margin: 0; border: 2px solid #4d4d4d; border-radius: 50%; background: #fff; cursor: pointer; }
input[type=radio]:checked { background: #154273; border-color: #154273; box-shadow: inset 0 0 0 4px #fff; }
.choice:has(:checked) label { font-weight: bold; }
label[for=acr] { display: block; font-weight: bold; margin-block-end: 0.25rem; }
select { display: block; width: 100%; max-width: 100%; min-block-size: 44px; box-sizing: border-box; font: inherit; padding: 0.4rem 0.5rem; border: 2px solid #4d4d4d; background: #fff; color: inherit; }
.buttons { display: flex; flex-wrap: wrap; gap: 0.75rem; margin-block: 1.5rem; }
button { font: inherit; font-weight: bold; min-block-size: 44px; padding: 0.5rem 1.25rem; border: 2px solid #154273; cursor: pointer; }
button[value=login], button[value=allow] { background: #154273; color: #fff; }
button[value=cancel] { background: #fff; color: #154273; }
button:hover { text-decoration: underline; }
:focus-visible { outline: 3px dotted #000; outline-offset: 2px; box-shadow: 0 0 0 6px #fff; }
`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="nl">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title>
<link rel="stylesheet" href="${IDP_CSS_PATH}"></head>
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
        `<div class="choice"><input type="radio" id="p-${esc(p.id)}" name="account" value="${esc(p.id)}"${i === 0 ? ' checked' : ''}>` +
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
<div class="buttons"><button type="submit" name="do" value="login">Inloggen</button>
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
<div class="buttons"><button type="submit" name="do" value="allow">Toestaan</button>
<button type="submit" name="do" value="cancel">Weigeren</button></div>
</form>`,
  );
}

export function errorPage(message: string): string {
  return page('Er ging iets mis', `<p>${esc(message)}</p>`);
}

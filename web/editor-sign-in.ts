/**
 * Hands an editor token (lib/staff/sso-pages.ts editorTokenPage) to Node-RED's editor the way the editor keeps the
 * tokens it gets itself: in localStorage under "auth-tokens" plus its path with slashes as dashes ("-admin"), as
 * RED.settings.set("auth-tokens", …) does. Then opens the editor in place of this page, so Back does not come here.
 */
const data = document.body.dataset;
const editor = data.editor ?? '/admin';
if (data.token) {
  try {
    localStorage.setItem(`auth-tokens${editor.replace(/\//g, '-')}`, JSON.stringify({ access_token: data.token, expires_in: Number(data.expires), token_type: 'Bearer' }));
  } catch {
    // No storage (private mode with storage off): the editor will ask to sign in again.
  }
  location.replace(`${editor}/`);
}

/**
 * The built-in method logos as small neutral SVG tiles (colour and name), served by our own route so the call page's
 * CSP (img-src 'self') allows them. They are recognisable, not the trademarked artwork: a municipality that wants the
 * official logo configures its https URL on the method.
 */
const TILES: Record<string, { bg: string; fg: string; label: string }> = {
  digid: { bg: '#154273', fg: '#ffffff', label: 'DigiD' },
  yivi: { bg: '#e0005a', fg: '#ffffff', label: 'Yivi' },
  eherkenning: { bg: '#0b71a1', fg: '#ffffff', label: 'eH' },
  generic: { bg: '#4b4b4b', fg: '#ffffff', label: 'ID' },
};

export function logoSvg(name: string): string | undefined {
  const t = Object.prototype.hasOwnProperty.call(TILES, name) ? TILES[name] : undefined;
  if (!t) return undefined;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64" role="img" aria-hidden="true"><rect width="64" height="64" rx="10" fill="${t.bg}"/><text x="32" y="39" font-family="Arial, Helvetica, sans-serif" font-size="${t.label.length > 3 ? 15 : 20}" font-weight="700" fill="${t.fg}" text-anchor="middle">${t.label}</text></svg>`;
}

import { isAbsoluteHttpUrl } from './http/urls';

/** What the idv-settings config node holds (secrets apart, as credentials). */
export interface InstanceSettings {
  publicUrl?: string;
  municipality: string;
  logoUrl?: string;
  themeCssUrl?: string;
  /** Class(es) on <html> that the theme stylesheet is scoped to; undefined: the default theme's class. */
  themeClass?: string;
  smtp?: { host: string; port: number; secure: boolean; user?: string; pass?: string; rejectUnauthorized: boolean };
  fromAddress: string;
  attributeTtlMinutes: number;
  privacyUrl?: string;
}

/**
 * Checks the idv-settings node's values; returns the problems in words a functional administrator understands
 * (the editor shows the same rules with a red triangle).
 */
export function validateInstanceSettings(raw: Record<string, unknown>, creds: Record<string, string | undefined> = {}):
  | { ok: true; settings: InstanceSettings }
  | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const str = (k: string) => (typeof raw[k] === 'string' ? (raw[k] as string).trim() : '');
  const municipality = str('municipality') || 'Gemeente Voorbeeld';
  if (municipality.length > 80 || /[\u0000-\u001f<>]/.test(municipality)) errors.push('municipality: at most 80 characters, no < > or control characters');
  const publicUrl = str('publicUrl').replace(/\/+$/, '') || undefined;
  if (publicUrl && !isAbsoluteHttpUrl(publicUrl)) errors.push('publicUrl: must be an http(s) URL such as https://video.gemeente.nl');
  const logoUrl = str('logoUrl') || undefined;
  if (logoUrl && !isAbsoluteHttpUrl(logoUrl) && !/^\/[^/]/.test(logoUrl)) errors.push('logoUrl: must be an https URL or a path on this server');
  const themeCssUrl = str('themeCssUrl') || undefined;
  if (themeCssUrl && !isAbsoluteHttpUrl(themeCssUrl) && !/^\/[^/]/.test(themeCssUrl)) errors.push('themeCssUrl: must be an https URL or a path on this server');
  const themeClass = str('themeClass').replace(/\s+/g, ' ') || undefined;
  if (themeClass && (themeClass.length > 100 || !/^[A-Za-z_][\w-]*( [A-Za-z_][\w-]*){0,4}$/.test(themeClass))) {
    errors.push('themeClass: one to five CSS class names such as utrecht-theme, separated by spaces');
  }
  const privacyUrl = str('privacyUrl') || undefined;
  if (privacyUrl && !isAbsoluteHttpUrl(privacyUrl)) errors.push('privacyUrl: must be an http(s) URL');
  const fromAddress = str('fromAddress') || 'no-reply@example.invalid';
  if (!/^[^\s@"<>,;]+@[^\s@"<>,;]+\.[^\s@"<>,;]+$/.test(fromAddress) || fromAddress.length > 254) errors.push('fromAddress: must be one e-mail address');
  const ttl = Number(raw.attributeTtlMinutes ?? 15);
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 60) errors.push('attributeTtlMinutes: a whole number of minutes from 1 to 60');
  let smtp: InstanceSettings['smtp'];
  const host = str('smtpHost');
  if (host) {
    const port = Number(raw.smtpPort ?? 587);
    if (!/^[A-Za-z0-9.-]+$/.test(host)) errors.push('smtpHost: a host name or IP address');
    if (!Number.isInteger(port) || port < 1 || port > 65535) errors.push('smtpPort: a port number from 1 to 65535');
    smtp = {
      host,
      port,
      secure: raw.smtpSecure === true || raw.smtpSecure === 'true',
      user: creds.smtpUser || undefined,
      pass: creds.smtpPassword || undefined,
      rejectUnauthorized: raw.smtpAllowSelfSigned !== true,
    };
  }
  if (errors.length) return { ok: false, errors };
  return { ok: true, settings: { publicUrl, municipality, logoUrl, themeCssUrl, themeClass, smtp, fromAddress, attributeTtlMinutes: ttl, privacyUrl } };
}

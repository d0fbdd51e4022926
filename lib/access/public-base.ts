import type { RuntimeConfig } from '../config';

/**
 * The base URL that links in mails are built from, without trailing slash. IDV_PUBLIC_URL wins (the operator knows
 * the public address); then the idv-settings node's public URL; then the address we listen on (settings.ts puts the
 * real port there when the runtime was started on port 0, since ":0" in a mail would be a dead link).
 */
export function publicBase(config: Pick<RuntimeConfig, 'publicUrl' | 'publicUrlFromEnv'>, settingsUrl?: string): string {
  if (config.publicUrlFromEnv) return config.publicUrl;
  if (settingsUrl) return settingsUrl.replace(/\/+$/, '');
  return config.publicUrl;
}

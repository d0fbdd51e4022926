import type { Server } from 'node:http';
import type { RuntimeConfig } from '../config';

/** The base URL loadConfig derives when IDV_PUBLIC_URL is not set. */
function derivedDefault(config: Pick<RuntimeConfig, 'host' | 'port'>): string {
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return `http://${host}:${config.port}`;
}

/**
 * The base URL that links in mails are built from, without trailing slash. IDV_PUBLIC_URL wins (the operator knows
 * the public address); then the idv-settings node's public URL; then the address we listen on — with the real port
 * when the runtime was started on port 0 (tests, a quick demo), since ":0" in a mail would be a dead link.
 */
export function publicBase(config: Pick<RuntimeConfig, 'host' | 'port' | 'publicUrl'>, settingsUrl?: string, server?: Server): string {
  const fallback = derivedDefault(config);
  if (config.publicUrl !== fallback) return config.publicUrl;
  if (settingsUrl) return settingsUrl.replace(/\/+$/, '');
  if (config.port === 0 && server?.listening) {
    const addr = server.address();
    if (addr && typeof addr === 'object') return derivedDefault({ host: config.host, port: addr.port });
  }
  return config.publicUrl;
}

import * as os from 'node:os';

export interface ListenChoice {
  ip: string;
  /** Which interface it came from, or why loopback had to do. For the start-up log line. */
  why: string;
}

/**
 * The address the media server listens on when none is configured: the machine's first IPv4 address that is not
 * loopback (nor link-local 169.254/16).
 *
 * Why not 127.0.0.1: Firefox never pairs with a loopback ICE candidate (it leaves out loopback unless
 * `media.peerconnection.ice.loopback` is set), so a call on a loopback-only media server connects its signaling, shows
 * a black picture and carries no sound in Firefox. An interface address works in every engine, also for a browser on
 * the same machine. What it exposes: the media UDP/TCP port range on that interface. Those ports answer only ICE
 * checks that carry the per-transport credentials handed out over the authenticated signaling, and media flows only
 * after a DTLS handshake with the fingerprint given there; nothing else is served on them. Production sets
 * IDV_MEDIA_LISTEN_IP (and IDV_MEDIA_ANNOUNCED_IP behind NAT) explicitly.
 */
export function defaultListenIp(interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]> = os.networkInterfaces()): ListenChoice {
  for (const [name, addrs] of Object.entries(interfaces)) {
    for (const a of addrs ?? []) {
      if (a.family !== 'IPv4' || a.internal || a.address.startsWith('169.254.') || a.address.startsWith('127.')) continue;
      return { ip: a.address, why: `first non-loopback interface (${name})` };
    }
  }
  return { ip: '127.0.0.1', why: 'no non-loopback IPv4 interface found; Firefox will not connect to a loopback media server' };
}

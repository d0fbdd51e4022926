/**
 * The mediasoup-client Device, loaded early. Loading it makes a throw-away RTCPeerConnection to learn what the browser
 * can send and receive (tens of ms); the call page carries the router's capabilities (data-rtp-capabilities), so
 * that happens while the resident looks at the device check, not after "Naar het gesprek".
 */
import { Device } from 'mediasoup-client';
import type { types } from 'mediasoup-client';

let early: { caps: string; device: Promise<Device | undefined> } | undefined;

function load(caps: types.RtpCapabilities): Promise<Device> {
  const device = new Device();
  return device.load({ routerRtpCapabilities: caps }).then(() => device);
}

/** Starts loading a Device for these router capabilities (once per page). */
export function preloadDevice(caps: types.RtpCapabilities): void {
  if (early) return;
  early = { caps: JSON.stringify(caps), device: load(caps).catch(() => undefined) };
}

/**
 * A loaded Device for the router's capabilities as the server just sent them: the early one when they are the same
 * (and it loaded), else a new one. The early one is handed out once; a rejoin loads afresh.
 */
export async function deviceFor(caps: types.RtpCapabilities): Promise<Device> {
  const e = early;
  early = undefined;
  if (e && e.caps === JSON.stringify(caps)) {
    const device = await e.device;
    if (device) return device;
  }
  return load(caps);
}

document.addEventListener('DOMContentLoaded', () => {
  const raw = document.body.dataset.rtpCapabilities;
  if (!raw) return;
  try {
    preloadDevice(JSON.parse(raw) as types.RtpCapabilities);
  } catch {
    /* no early device: it is loaded after the click instead */
  }
});

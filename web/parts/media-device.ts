/**
 * The mediasoup-client Device, loaded early. Loading it makes a throw-away RTCPeerConnection to learn what the browser
 * can send and receive (tens of ms); the call page carries the router's capabilities (data-rtp-capabilities), so
 * that happens while the resident looks at the device check, not after "Naar het gesprek".
 */
import { Device } from 'mediasoup-client';
import type { types } from 'mediasoup-client';

interface Early {
  /** The router capabilities it is loaded for (JSON). */
  caps: string;
  device: Promise<Device | undefined>;
  /** Set once loaded. */
  loaded?: Device;
}

let early: Early | undefined;

function load(caps: types.RtpCapabilities): Promise<Device> {
  const device = new Device();
  return device.load({ routerRtpCapabilities: caps }).then(() => device);
}

/** Starts loading a Device for these router capabilities (once per page). */
export function preloadDevice(caps: types.RtpCapabilities): void {
  if (early) return;
  const e: Early = { caps: JSON.stringify(caps), device: load(caps).catch(() => undefined) };
  early = e;
  void e.device.then((d) => (e.loaded = d));
}

/**
 * The early Device if it has finished loading, handed out once (a rejoin loads afresh), with the router capabilities
 * it was loaded for (JSON): the caller compares them with the router's answer. Synchronous, so a join can go out
 * together with the requests for the router's capabilities and the transports.
 */
export function takeLoadedDevice(): { device: Device; caps: string } | undefined {
  const e = early;
  if (!e?.loaded) return undefined;
  early = undefined;
  return { device: e.loaded, caps: e.caps };
}

/** Whether these router capabilities (as the server just sent them) are the ones `caps` (JSON) stands for. */
export function sameCapabilities(caps: string, routerCaps: types.RtpCapabilities): boolean {
  return caps === JSON.stringify(routerCaps);
}

/**
 * A loaded Device for the router's capabilities as the server just sent them: the early one when they are the same
 * (and it loaded), else a new one. The early one is handed out once; a rejoin loads afresh.
 */
export async function deviceFor(caps: types.RtpCapabilities): Promise<Device> {
  const e = early;
  early = undefined;
  if (e && sameCapabilities(e.caps, caps)) {
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

import type { types as ms } from 'mediasoup';
import { loadMediasoup, resolveWorkerBin } from './mediasoup-loader';
import { MEDIA_CODECS } from './room';

/**
 * Synthetic 1:1 calls on one measured worker, for scripts/bench/capacity.ts (a benchmark, not product code).
 *
 * Per call the measured worker carries what a real call makes it do: for each of the two participants an incoming
 * SRTP transport with an audio and a video producer (a browser's send transport) and an outgoing SRTP transport with
 * the consumers of the other participant's media (a browser's receive transport): per packet SRTP decryption, RTP
 * routing, SRTP encryption. ICE/DTLS handshakes and congestion-control feedback are left out (they cost little once a
 * call runs).
 *
 * A second, helper worker stands in for the browsers: it takes plain RTP (a pre-encoded recording, replayed by the
 * benchmark to `ingressPorts`), encrypts it with SRTP towards the measured worker, and swallows what the measured
 * worker sends back. So neither encoding nor decoding nor SRTP of the "browsers" runs in the measured process.
 */
export interface CapacityProbe {
  /** UDP ports on 127.0.0.1 where each participant's plain RTP (audio and video, one port) is expected. */
  readonly ingressPorts: number[];
  readonly measuredPid: number;
  /** Adds one call (two participants); resolves when its transports are connected. */
  addCall(): Promise<void>;
  /** CPU time (user + system) of the measured worker, in ms. */
  cpuMs(): Promise<number>;
  /** Bytes the measured worker sent out to the participants so far (proof that media is forwarded). */
  bytesForwarded(): Promise<number>;
  close(): void;
}

export interface RecordedStream {
  kind: 'audio' | 'video';
  /** As in the recording: payload type, SSRC, codec. */
  payloadType: number;
  ssrc: number;
  mimeType: 'video/VP8' | 'audio/opus';
}

const LOCAL = '127.0.0.1';

function rtpParametersOf(s: RecordedStream): ms.RtpParameters {
  return {
    codecs: [
      s.kind === 'audio'
        ? { mimeType: s.mimeType, payloadType: s.payloadType, clockRate: 48000, channels: 2, parameters: {}, rtcpFeedback: [] }
        : { mimeType: s.mimeType, payloadType: s.payloadType, clockRate: 90000, parameters: {}, rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }] },
    ],
    encodings: [{ ssrc: s.ssrc }],
    rtcp: { cname: 'capacity-probe', reducedSize: true },
  };
}

export async function startCapacityProbe(streams: RecordedStream[], o: { workerBin?: string; rtcMinPort?: number; rtcMaxPort?: number } = {}): Promise<CapacityProbe> {
  const mediasoup = loadMediasoup(resolveWorkerBin(o.workerBin));
  const settings = { logLevel: 'error' as const, rtcMinPort: o.rtcMinPort, rtcMaxPort: o.rtcMaxPort };
  const measured = await mediasoup.createWorker(settings);
  const helper = await mediasoup.createWorker(settings);
  const routerA = await measured.createRouter({ mediaCodecs: MEDIA_CODECS });
  const routerB = await helper.createRouter({ mediaCodecs: MEDIA_CODECS });
  const ingressPorts: number[] = [];
  const outgoing: ms.PlainTransport[] = [];
  const plain = (router: ms.Router, srtp: boolean, comedia = false) =>
    router.createPlainTransport({ listenIp: LOCAL, rtcpMux: true, comedia, enableSrtp: srtp, srtpCryptoSuite: 'AES_CM_128_HMAC_SHA1_80' });
  const link = async (a: ms.PlainTransport, b: ms.PlainTransport) => {
    await a.connect({ ip: LOCAL, port: b.tuple.localPort, srtpParameters: b.srtpParameters });
    await b.connect({ ip: LOCAL, port: a.tuple.localPort, srtpParameters: a.srtpParameters });
  };

  /** One participant: plain RTP in at the helper, SRTP to the measured worker; returns the producers there. */
  const participant = async (): Promise<ms.Producer[]> => {
    const ingress = await plain(routerB, false, true);
    ingressPorts.push(ingress.tuple.localPort);
    const bOut = await plain(routerB, true);
    const aIn = await plain(routerA, true);
    await link(bOut, aIn);
    const produced: ms.Producer[] = [];
    for (const s of streams) {
      const source = await ingress.produce({ kind: s.kind, rtpParameters: rtpParametersOf(s) });
      const piped = await bOut.consume({ producerId: source.id, rtpCapabilities: routerA.rtpCapabilities });
      produced.push(await aIn.produce({ kind: s.kind, rtpParameters: piped.rtpParameters }));
    }
    return produced;
  };

  /**
   * The other participant's receive side: SRTP out of the measured worker into a helper transport without SRTP, which
   * drops the packets as unknown (no decryption: the helper must stay light so it never slows the measured worker's
   * feed).
   */
  const receiver = async (producers: ms.Producer[]): Promise<void> => {
    const aOut = await plain(routerA, true);
    const sink = await plain(routerB, false, true);
    await aOut.connect({ ip: LOCAL, port: sink.tuple.localPort, srtpParameters: aOut.srtpParameters });
    outgoing.push(aOut);
    for (const p of producers) {
      const c = await aOut.consume({ producerId: p.id, rtpCapabilities: routerB.rtpCapabilities, paused: false });
      await c.requestKeyFrame().catch(() => undefined);
    }
  };

  return {
    ingressPorts,
    measuredPid: measured.pid,
    async addCall() {
      const resident = await participant();
      const agent = await participant();
      await receiver(resident);
      await receiver(agent);
    },
    async cpuMs() {
      const u = await measured.getResourceUsage();
      return u.ru_utime + u.ru_stime;
    },
    async bytesForwarded() {
      let total = 0;
      for (const t of outgoing) for (const s of await t.getStats()) total += Number(s.bytesSent ?? 0);
      return total;
    },
    close() {
      measured.close();
      helper.close();
    },
  };
}

/**
 * Two @roamhq/wrtc peers (resident and agent) in a child process of media.test.ts, driven over IPC. They live apart
 * from mocha because @roamhq/wrtc crashes the process that loaded it at exit (a video source's native finalizer,
 * node-webrtc#636 / WonderInventions/node-webrtc#35), which would end every mocha run with a segfault; this process
 * ends itself with process.exit once the test says so.
 *
 * argv: <signaling url> <origin> <resident session key> <agent session key>
 * Sends {frames: [resident, agent], width: [resident, agent]} every 100 ms and {rejoined: role} after a server-asked
 * rejoin; obeys {close: true}.
 */
import { SignalClient, type Harness } from './harness';
import { startWrtcPeer, type WrtcPeer } from './wrtc-peer';

async function main(): Promise<void> {
  const [url, origin, residentKey, agentKey] = process.argv.slice(2);
  const h = { url, origin } as Harness;
  const clients = [await SignalClient.connect(h, residentKey), await SignalClient.connect(h, agentKey)];
  const peers: WrtcPeer[] = [];
  for (const c of clients) peers.push(await startWrtcPeer(c));
  const roles = ['resident', 'agent'] as const;
  // As a real client does: a 'rejoin' notification (the worker died) is answered by setting up again.
  clients.forEach((c, i) => {
    let seen = 0;
    const watch = setInterval(() => {
      const rejoins = c.inbox.filter((e) => e.method === 'rejoin').length;
      if (rejoins > seen) {
        seen = rejoins;
        void peers[i].rejoin().then(
          () => process.send?.({ rejoined: roles[i] }),
          (e: Error) => process.send?.({ error: `${roles[i]} rejoin: ${e.message}` }),
        );
      }
    }, 50);
    watch.unref();
  });
  const report = setInterval(() => process.send?.({ frames: peers.map((p) => p.frames.count), width: peers.map((p) => p.frames.width) }), 100);
  process.on('message', (m: { close?: boolean }) => {
    if (!m.close) return;
    clearInterval(report);
    for (const p of peers) p.close();
    process.exit(0);
  });
}

main().catch((e: Error) => {
  process.send?.({ error: e.stack ?? e.message });
  process.exit(1);
});

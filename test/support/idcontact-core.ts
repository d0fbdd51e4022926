/**
 * A stand-in ID Contact core with one auth plugin, built in the test from the published protocol (id-contact/docs
 * webdocs/docs/sessions/auth_during_comm.md, comm/overview.md, concepts/JWE.md, docs/openapi/*; id-contact/core
 * src/options.rs, src/start.rs, src/methods/comm.rs), on 127.0.0.1 with ephemeral ports:
 *
 * Core: `GET /session_options/<purpose>`, `POST /start` (auth-only variant: asks the plugin, answers `{client_url}`
 * with `Accept: application/json`, else a redirect), images under /static, and `startCommunication()` to play the
 * core calling a communication plugin's `POST /start_communication`.
 * Auth plugin: `POST /start_authentication` -> `client_url` of a page where the resident signs in as the configured
 * test person; then the result (JWE around JWS, keys generated in the test) is POSTed to the attr_url as
 * `application/jwt` and the browser is sent to the continuation (comm_url) — or, in the inline modes, carried there
 * in the query as the core (`?status=succes&attributes=`) or a plugin (`?result=`) does without an attr_url.
 *
 * Every request body the core receives is checked against the published schemas; violations are collected.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KeyObject } from 'node:crypto';
import express from 'express';
import { sealAuthResult, type SealOptions } from './idcontact-tokens';
import { clientUrlSchema, sessionOptionsSchema, startAuthOnlySchema, startCommunicationResponseSchema, violations } from './idcontact-schemas';

export type Fault = 'ok' | 'down' | 'garbage' | 'html' | 'slow';

export interface StandInOptions {
  purpose: string;
  /** Attribute tags the purpose asks for (core config `purposes[].attributes`). */
  attributes: string[];
  authMethods: { tag: string; name: string }[];
  /** ID Video's public key (the communication plugin's encryption key). */
  commPublicKey: KeyObject;
  /** The auth plugin's signing key. */
  pluginSignKey: KeyObject;
  /** The test person: attribute tag -> value. */
  person: Record<string, string>;
}

export interface StandIn {
  coreUrl: string;
  pluginUrl: string;
  /** Bodies POST /start received, as parsed JSON. */
  starts: Record<string, unknown>[];
  /** Headers of those requests. */
  startHeaders: http.IncomingHttpHeaders[];
  /** Schema violations found in what ID Video sent or answered. */
  schemaViolations: string[];
  faults: { sessionOptions: Fault; start: Fault };
  /** How the plugin hands the result over: POST to attr_url (the default) or in the comm_url's query. */
  delivery: 'attr_url' | 'inline-core' | 'inline-result';
  /** Changes the next results (e.g. {status: 'failed'}, another signing key); applied to every result until reset. */
  resultOverride: Partial<SealOptions> | undefined;
  /** Deliveries to attr_urls: the status ID Video answered. */
  deliveries: { attrUrl: string; status: number }[];
  /** The last result the plugin made (to replay it). */
  lastResult?: { token: string; attrUrl?: string; continuation: string };
  /** What the resident's browser would do after signing in: the sign-in page's form, for HTTP clients. */
  signIn(clientUrl: string): Promise<string>;
  /** Plays the core calling a communication plugin's POST /start_communication. */
  startCommunication(pluginBase: string, body: Record<string, unknown>, headers?: Record<string, string>): Promise<{ status: number; json: Record<string, unknown> | undefined }>;
  /** Makes an auth result as the plugin would, for the given attributes (and overrides). */
  seal(attributes: Record<string, unknown>, extra?: Partial<SealOptions>): Promise<string>;
  close(): Promise<void>;
}

const SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#154273"/><text x="16" y="21" font-size="12" text-anchor="middle" fill="#fff">ID</text></svg>';

async function listen(app: express.Express): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

export async function startIdContactStandIn(o: StandInOptions): Promise<StandIn> {
  const core = express();
  const plugin = express();
  const { server: coreServer, url: coreUrl } = await listen(core);
  const { server: pluginServer, url: pluginUrl } = await listen(plugin);
  const sessions = new Map<string, { attributes: string[]; continuation: string; attrUrl?: string }>();
  let seq = 0;

  const s: StandIn = {
    coreUrl,
    pluginUrl,
    starts: [],
    startHeaders: [],
    schemaViolations: [],
    faults: { sessionOptions: 'ok', start: 'ok' },
    delivery: 'attr_url',
    resultOverride: undefined,
    deliveries: [],
    async signIn(clientUrl) {
      const page = await (await fetch(clientUrl)).text();
      const action = /action="([^"]+)"/.exec(page)?.[1];
      if (!action) throw new Error('no sign-in form at the client_url');
      const res = await fetch(new URL(action, clientUrl), { method: 'POST', redirect: 'manual' });
      return res.headers.get('location') ?? '';
    },
    async startCommunication(pluginBase, body, headers = {}) {
      const res = await fetch(`${pluginBase}/start_communication`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
      const json = /json/.test(res.headers.get('content-type') ?? '') ? ((await res.json()) as Record<string, unknown>) : undefined;
      if (res.status === 200) for (const v of violations(startCommunicationResponseSchema, json)) s.schemaViolations.push(`start_communication answer: ${v}`);
      return { status: res.status, json };
    },
    seal(attributes, extra = {}) {
      return sealAuthResult({ signKey: o.pluginSignKey, encKey: o.commPublicKey, attributes, ...s.resultOverride, ...extra });
    },
    async close() {
      for (const srv of [coreServer, pluginServer]) {
        srv.closeAllConnections();
        await new Promise<void>((r) => srv.close(() => r()));
      }
    },
  };

  const fault = (res: express.Response, f: Fault): boolean => {
    if (f === 'down') {
      res.socket?.destroy();
      return true;
    }
    if (f === 'garbage') {
      res.type('application/json').send('{"auth_methods": "no", "client_url": 42');
      return true;
    }
    if (f === 'html') {
      res.status(200).type('html').send('<html><body>Maintenance</body></html>');
      return true;
    }
    return false;
  };

  // ---- the core ----
  core.get('/static/:name.svg', (_req, res) => res.type('image/svg+xml').send(SVG));
  core.get('/session_options/:purpose', (req, res) => {
    if (fault(res, s.faults.sessionOptions)) return;
    if (req.params.purpose !== o.purpose) return res.status(404).json({ error: 'no such purpose' });
    const body = {
      auth_methods: [...o.authMethods.map((m) => ({ tag: m.tag, name: m.name, image_path: `/static/${m.tag}.svg` })), { tag: 'Bad Tag!', name: 'refused', image_path: '/static/x.svg' }, { tag: 'elsewhere', name: 'Image elsewhere', image_path: 'https://tracker.example/pixel.png' }],
      comm_methods: [{ tag: 'video', name: 'Video', image_path: '/static/video.svg' }],
    };
    for (const v of violations(sessionOptionsSchema, body)) s.schemaViolations.push(`session_options (stand-in): ${v}`);
    res.json(body);
  });
  core.post('/start', express.text({ type: () => true, limit: '16kb' }), async (req, res) => {
    s.startHeaders.push(req.headers);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(String(req.body)) as Record<string, unknown>;
    } catch {
      s.schemaViolations.push('POST /start: body is not JSON');
      return res.status(400).end();
    }
    s.starts.push(body);
    if (!/^application\/json/.test(req.headers['content-type'] ?? '')) s.schemaViolations.push('POST /start: content-type is not application/json');
    for (const v of violations(startAuthOnlySchema, body)) s.schemaViolations.push(`POST /start: ${v}`);
    if (fault(res, s.faults.start)) return;
    if (s.faults.start === 'slow') await new Promise((r) => setTimeout(r, 10_000));
    if (body.purpose !== o.purpose || !o.authMethods.some((m) => m.tag === body.auth_method)) return res.status(400).json({ error: 'bad request' });
    // The core asks the auth plugin (src/methods/auth.rs: StartAuthRequest {attributes, continuation, attr_url}).
    const started = await fetch(`${pluginUrl}/start_authentication`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ attributes: o.attributes, continuation: body.comm_url, ...(s.delivery === 'attr_url' ? { attr_url: body.attr_url } : {}) }),
    });
    const { client_url } = (await started.json()) as { client_url: string };
    const answer = { client_url };
    for (const v of violations(clientUrlSchema, answer)) s.schemaViolations.push(`/start answer (stand-in): ${v}`);
    // Without Accept: application/json the core redirects instead (src/start.rs ClientUrlResponse).
    if (req.headers.accept !== 'application/json') return res.redirect(303, client_url);
    res.json(answer);
  });

  // ---- the auth plugin ----
  plugin.post('/start_authentication', express.json(), (req, res) => {
    const b = req.body as { attributes: string[]; continuation: string; attr_url?: string };
    const id = `s${++seq}`;
    sessions.set(id, { attributes: b.attributes, continuation: b.continuation, ...(b.attr_url ? { attrUrl: b.attr_url } : {}) });
    res.json({ client_url: `${pluginUrl}/confirm/${id}` });
  });
  plugin.get('/confirm/:id', (req, res) => {
    if (!sessions.has(req.params.id)) return res.status(404).send('unknown session');
    res.type('html').send(`<!doctype html><html lang="nl"><head><title>Test-inlogdienst</title></head><body><main><h1>Test-inlogdienst (ID Contact)</h1>
<p>U logt in als testpersoon.</p><form method="post" action="/browser/${req.params.id}"><button type="submit" id="idc-login">Inloggen</button></form></main></body></html>`);
  });
  plugin.post('/browser/:id', async (req, res) => {
    const session = sessions.get(req.params.id);
    if (!session) return res.status(404).send('unknown session');
    sessions.delete(req.params.id);
    const attributes = Object.fromEntries(session.attributes.filter((a) => a in o.person).map((a) => [a, o.person[a]]));
    const token = await s.seal(attributes);
    s.lastResult = { token, continuation: session.continuation, ...(session.attrUrl ? { attrUrl: session.attrUrl } : {}) };
    if (session.attrUrl) {
      // As the test plugin does: the POST first (server to server), then the browser onwards.
      const posted = await fetch(session.attrUrl, { method: 'POST', headers: { 'content-type': 'application/jwt' }, body: token }).catch(() => undefined);
      s.deliveries.push({ attrUrl: session.attrUrl, status: posted?.status ?? 0 });
      return res.redirect(303, session.continuation);
    }
    const sep = session.continuation.includes('?') ? '&' : '?';
    res.redirect(303, s.delivery === 'inline-core' ? `${session.continuation}${sep}status=succes&attributes=${token}` : `${session.continuation}${sep}result=${token}`);
  });

  return s;
}

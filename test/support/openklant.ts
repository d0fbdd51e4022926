import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import addFormats from 'ajv-formats';
import * as yaml from 'js-yaml';
import { OpenAPIBackend, type Context, type Document } from 'openapi-backend';

/**
 * A stand-in Open Klant for tests: it validates every request against the published Klantinteracties OpenAPI
 * specification (test/fixtures/openklant/klantinteracties-openapi.yaml, Open Klant 0.9.0, EUPL-1.2) with openapi-backend
 * (routing, token security, parameters and bodies through ajv with formats) and answers as the specification says:
 * responses are generated from the response schemas (openapi-backend's mock) with our uuids filled in.
 *
 * Errors follow Open Klant's (VNG API design rules) error body, which the specification itself does not describe:
 * 400 `{type, code, title, status, detail, instance, invalidParams: [{name, code, reason}]}`, 401 without a valid token.
 * Faults to inject: `failNext(n, 500 | 503 | 'timeout' | 400 | 'late')`; 'late' carries the request out (a contact is
 * stored) and answers only after `lateAnswerMs`, when a client with a shorter timeout has given up.
 */

export const SPEC_PATH = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'openklant', 'klantinteracties-openapi.yaml');
export const API_ROOT = '/klantinteracties/api/v1';

export interface SeenRequest {
  method: string;
  path: string;
  operationId?: string;
  query: Record<string, string>;
  traceparent?: string;
  authorization?: string;
  body?: unknown;
  /** The status answered. */
  status: number;
}

type Fault = 400 | 401 | 500 | 503 | 'timeout' | 'late';

/**
 * OpenAPI 3.0.3 says `nullable` has effect only beside an explicit `type`; the generated spec puts it beside `allOf`
 * (drf-spectacular) and ajv refuses that. Removing it there is what 3.0.3 means, so requests are judged by the letter.
 */
function dropUntypedNullable(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(dropUntypedNullable);
  if (!node || typeof node !== 'object') return;
  const o = node as Record<string, unknown>;
  if ('nullable' in o && o.type === undefined) delete o.nullable;
  for (const v of Object.values(o)) dropUntypedNullable(v);
}

/**
 * OpenAPI 3.0.3: a readOnly property in `required` is required in responses only. openapi-backend validates requests
 * against the schema as written, so the stand-in (which validates requests only) takes readOnly names out of `required`.
 */
function readOnlyNotRequired(doc: Document): void {
  const schemas = ((doc as { components?: { schemas?: Record<string, Record<string, unknown>> } }).components?.schemas ?? {});
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    const o = node as { required?: unknown; properties?: Record<string, { readOnly?: boolean }> };
    if (Array.isArray(o.required) && o.properties) {
      const props = o.properties;
      o.required = o.required.filter((name: string) => props[name]?.readOnly !== true);
    }
    for (const v of Object.values(o)) visit(v);
  };
  visit(schemas);
}

let cachedDocument: Document | undefined;
function specDocument(): Document {
  if (!cachedDocument) {
    const doc = yaml.load(fs.readFileSync(SPEC_PATH, 'utf8')) as Document;
    dropUntypedNullable(doc);
    readOnlyNotRequired(doc);
    cachedDocument = doc;
  }
  return structuredClone(cachedDocument);
}

/** An ajv error's field as Open Klant names it: "klantcontact.kanaal" (the missing property for 'required'). */
function fieldName(e: { instancePath?: string; params?: unknown }): string {
  const missing = (e.params as { missingProperty?: string } | undefined)?.missingProperty;
  const p = (e.instancePath ?? '').replace(/^\/?(requestBody|query)?\/?/, '').split('/').filter(Boolean);
  if (missing) p.push(missing);
  return p.join('.') || 'nonFieldErrors';
}

export interface StandInOpenKlant {
  /** API root for the client: http://127.0.0.1:<port>/klantinteracties/api/v1 */
  baseUrl: string;
  token: string;
  requests: SeenRequest[];
  /** Partijen by BSN (the stand-in's register). */
  partijen: Map<string, string>;
  /** Actoren by username. */
  actoren: Map<string, string>;
  /** Klantcontacten registered: their request bodies by uuid. */
  klantcontacten: Map<string, unknown>;
  failNext(times: number, fault: Fault, operationId?: string): void;
  /** Resolves when `n` requests of an operation have been answered. */
  waitFor(operationId: string, n: number, timeoutMs?: number): Promise<SeenRequest[]>;
  close(): Promise<void>;
}

export async function startStandInOpenKlant(o: { token?: string; timeoutHoldMs?: number; lateAnswerMs?: number } = {}): Promise<StandInOpenKlant> {
  const token = o.token ?? 'stand-in-token-0123456789';
  const requests: SeenRequest[] = [];
  const partijen = new Map<string, string>();
  const actoren = new Map<string, string>();
  const klantcontacten = new Map<string, unknown>();
  const faults: { fault: Fault; operationId?: string }[] = [];
  const waiters = new Set<() => void>();
  const held = new Set<http.ServerResponse>();
  const lateTimers = new Set<NodeJS.Timeout>();

  const api = new OpenAPIBackend({
    definition: specDocument(),
    apiRoot: API_ROOT,
    strict: false,
    // Validators are compiled per operation on first use: the whole specification takes ~25 s to compile up front.
    quick: true,
    ajvOpts: { allErrors: true },
    customizeAjv: (ajv) => {
      addFormats(ajv as never);
      return ajv;
    },
  });

  const errorBody = (status: number, code: string, title: string, invalidParams?: { name: string; code: string; reason: string }[]) => ({
    type: `https://openklant.invalid/ref/fouten/${code}/`,
    code,
    title,
    status,
    detail: title,
    instance: `urn:uuid:${randomUUID()}`,
    ...(invalidParams ? { invalidParams } : {}),
  });
  const mock = (operationId: string): Record<string, unknown> => {
    const m = api.mockResponseForOperation(operationId);
    return structuredClone(m.mock as Record<string, unknown>);
  };

  api.registerSecurityHandler('tokenAuth', (c: Context) => c.request.headers.authorization === `Token ${token}`);
  api.register({
    unauthorizedHandler: () => ({ status: 401, body: errorBody(401, 'not_authenticated', 'Authenticatiegegevens zijn niet opgegeven.') }),
    notFound: () => ({ status: 404, body: errorBody(404, 'not_found', 'Niet gevonden.') }),
    methodNotAllowed: () => ({ status: 405, body: errorBody(405, 'method_not_allowed', 'Methode niet toegestaan.') }),
    notImplemented: () => ({ status: 501, body: errorBody(501, 'not_implemented', 'Niet geïmplementeerd in de stand-in.') }),
    validationFail: (c: Context) => ({
      status: 400,
      body: errorBody(
        400,
        'invalid',
        'Invalid input.',
        (c.validation.errors ?? []).map((e) => ({ name: fieldName(e), code: e.keyword, reason: e.message ?? 'invalid' })),
      ),
    }),
    partijenList: (c: Context) => {
      const q = c.request.query as Record<string, string>;
      const uuid = partijen.get(String(q.partijIdentificator__objectId ?? ''));
      const page = mock('partijenList');
      const item = (page.results as Record<string, unknown>[])?.[0] ?? {};
      return { status: 200, body: { ...page, count: uuid ? 1 : 0, next: null, previous: null, results: uuid ? [{ ...item, uuid }] : [] } };
    },
    actorenList: (c: Context) => {
      const q = c.request.query as Record<string, string>;
      const uuid = actoren.get(String(q.actoridentificatorObjectId ?? ''));
      const page = mock('actorenList');
      const item = (page.results as Record<string, unknown>[])?.[0] ?? {};
      return { status: 200, body: { ...page, count: uuid ? 1 : 0, next: null, previous: null, results: uuid ? [{ ...item, uuid }] : [] } };
    },
    maakKlantcontactCreate: (c: Context) => {
      const body = mock('maakKlantcontactCreate');
      const uuid = randomUUID();
      klantcontacten.set(uuid, c.request.body);
      const sent = c.request.body as { klantcontact: Record<string, unknown>; betrokkene?: Record<string, unknown> };
      body.klantcontact = { ...(body.klantcontact as object), ...sent.klantcontact, uuid };
      if (sent.betrokkene) body.betrokkene = { ...(body.betrokkene as object), ...sent.betrokkene, uuid: randomUUID() };
      return { status: 201, body };
    },
    klantcontactenList: (c: Context) => {
      // The list filtered on the onderwerpobject's identificator, as Open Klant filters it (all four parts must match).
      const q = c.request.query as Record<string, string>;
      const key = 'onderwerpobject__onderwerpobjectidentificator';
      const wanted = ['ObjectId', 'CodeObjecttype', 'CodeRegister', 'CodeSoortObjectId'].map((k) => [k, q[`${key}${k}`]] as const).filter(([, v]) => v !== undefined);
      const matches = [...klantcontacten.entries()].filter(([, b]) => {
        const id = (b as { onderwerpobject?: { onderwerpobjectidentificator?: Record<string, unknown> } }).onderwerpobject?.onderwerpobjectidentificator ?? {};
        return wanted.every(([k, v]) => id[k.charAt(0).toLowerCase() + k.slice(1)] === v);
      });
      const page = mock('klantcontactenList');
      const item = (page.results as Record<string, unknown>[])?.[0] ?? {};
      return { status: 200, body: { ...page, count: matches.length, next: null, previous: null, results: matches.slice(0, Number(q.pageSize ?? 100)).map(([uuid]) => ({ ...item, uuid })) } };
    },
    actorklantcontactenCreate: (c: Context) => ({ status: 201, body: { ...mock('actorklantcontactenCreate'), ...(c.request.body as object), uuid: randomUUID() } }),
  });
  await api.init();
  // Compile the validators of the operations ID Video uses now, so the first real request is not slowed by it (a
  // client with a short timeout would see a timeout). Invalid on purpose: they end in validationFail, storing nothing.
  for (const [method, p] of [['GET', '/partijen?pageSize=x'], ['GET', '/actoren?pageSize=x'], ['GET', '/klantcontacten?pageSize=x'], ['POST', '/maak-klantcontact'], ['POST', '/actorklantcontacten']]) {
    const [pathname, query] = p.split('?');
    await api.handleRequest({ method, path: `${API_ROOT}${pathname}`, query: query ?? '', headers: { authorization: `Token ${token}`, 'content-type': 'application/json' }, body: {} });
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const url = new URL(req.url ?? '/', 'http://stand-in.invalid');
        const raw = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = raw ? JSON.parse(raw) : undefined;
        } catch {
          body = raw;
        }
        const operationId = api.matchOperation({ method: req.method ?? 'GET', path: url.pathname, headers: req.headers as Record<string, string> })?.operationId;
        const seen: SeenRequest = {
          method: req.method ?? 'GET',
          path: url.pathname,
          ...(operationId ? { operationId } : {}),
          query: Object.fromEntries(url.searchParams),
          ...(typeof req.headers.traceparent === 'string' ? { traceparent: req.headers.traceparent } : {}),
          ...(typeof req.headers.authorization === 'string' ? { authorization: req.headers.authorization } : {}),
          ...(body !== undefined ? { body } : {}),
          status: 0,
        };
        const fi = faults.findIndex((f) => !f.operationId || f.operationId === operationId);
        const fault = fi >= 0 ? faults.splice(fi, 1)[0].fault : undefined;
        let status: number;
        let out: unknown;
        if (fault === 'timeout') {
          // Never answer: the client's timeout must end it. Closed with the server.
          held.add(res);
          seen.status = -1;
          requests.push(seen);
          for (const w of waiters) w();
          return;
        } else if (fault !== undefined && fault !== 'late') {
          status = fault;
          out = fault === 400
            ? errorBody(400, 'invalid', 'Invalid input.', [{ name: 'klantcontact.onderwerp', code: 'max_length', reason: 'Zorg ervoor dat dit veld niet meer dan 200 karakters bevat.' }])
            : fault === 401 ? errorBody(401, 'not_authenticated', 'Authenticatiegegevens zijn niet opgegeven.') : errorBody(fault, 'error', 'Er is een serverfout opgetreden.');
        } else {
          const r = (await api.handleRequest({
            method: req.method ?? 'GET',
            path: url.pathname,
            query: url.search.slice(1),
            headers: req.headers as Record<string, string>,
            body,
          })) as { status: number; body: unknown };
          status = r.status;
          out = r.body;
        }
        seen.status = status;
        requests.push(seen);
        const answer = () => {
          res.writeHead(status, { 'Content-Type': 'application/json', 'API-version': '0.9.0' });
          res.end(JSON.stringify(out));
        };
        if (fault === 'late') {
          // Carried out, answered too late: the client has given up by then.
          held.add(res);
          const t = setTimeout(() => {
            lateTimers.delete(t);
            held.delete(res);
            if (!res.destroyed && !res.writableEnded) answer();
          }, o.lateAnswerMs ?? 1500);
          lateTimers.add(t);
        } else {
          answer();
        }
        for (const w of waiters) w();
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    baseUrl: `http://127.0.0.1:${port}${API_ROOT}`,
    token,
    requests,
    partijen,
    actoren,
    klantcontacten,
    failNext(times, fault, operationId) {
      for (let i = 0; i < times; i++) faults.push({ fault, ...(operationId ? { operationId } : {}) });
    },
    waitFor(operationId, n, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const list = requests.filter((r) => r.operationId === operationId);
          if (list.length >= n) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(list);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`stand-in Open Klant: ${operationId} seen ${requests.filter((r) => r.operationId === operationId).length} times, expected ${n}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async close() {
      for (const t of lateTimers) clearTimeout(t);
      for (const r of held) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

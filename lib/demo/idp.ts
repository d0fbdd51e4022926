import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { consentPage, errorPage, IDP_CSS, IDP_CSS_PATH, loginPage } from './idp-pages';

/**
 * A real OpenID Provider (oidc-provider) on loopback for demo mode and tests: discovery, JWKS, authorization code with
 * PKCE, userinfo, client_secret_basic and private_key_jwt, an acr per client or account, and its own pages to pick a
 * test person and consent. Its pages say plainly it is not DigiD. It never listens on anything but 127.0.0.1.
 */

/** DigiD's levels as its OIDC brokers express them, weakest first (basis, midden, substantieel, hoog). */
export const DIGID_ACR_ORDER = [
  'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport',
  'urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract',
  'urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard',
  'urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI',
] as const;

export interface DemoAccount {
  id: string;
  name: string;
  givenName: string;
  familyName: string;
  bsn: string;
  birthdate: string;
  /** Forces this account's acr, whatever the login page or client says. */
  acr?: string;
  /** More claims (released with the profile scope), e.g. an oversized one for tests. */
  extraClaims?: Record<string, unknown>;
}

export interface DemoClient {
  clientId: string;
  clientAuth: 'client_secret_basic' | 'private_key_jwt';
  clientSecret?: string;
  /** The client's public key(s) as JWK for private_key_jwt. */
  publicJwks?: Record<string, unknown>[];
  redirectUris: string[];
  /** Default acr for logins of this client (the login page may pick another unless the account forces one). */
  acr?: string;
  name?: string;
}

export interface DemoIdpOptions {
  port?: number;
  issuerHost?: '127.0.0.1';
  clients: DemoClient[];
  /** Replaces the built-in test persons. */
  accounts?: DemoAccount[];
  acrValues?: readonly string[];
  defaultAcr?: string;
  /** Sees each request before it is handled (tests check the `traceparent` a client sends). */
  onRequest?: (req: http.IncomingMessage) => void;
}

export interface DemoIdp {
  issuer: string;
  accounts: readonly DemoAccount[];
  close(): Promise<void>;
}

export const DEMO_ACCOUNTS: readonly DemoAccount[] = Object.freeze([
  { id: 'jan', name: 'Jan Jansen', givenName: 'Jan', familyName: 'Jansen', bsn: '999993653', birthdate: '1980-01-01' },
  { id: 'sophie', name: 'Sophie de Vries', givenName: 'Sophie', familyName: 'de Vries', bsn: '999990019', birthdate: '1992-07-15' },
  // Fails the elfproef on purpose: shows the refusal path in demo and tests.
  { id: 'ongeldig', name: 'Piet Ongeldig (BSN faalt elfproef)', givenName: 'Piet', familyName: 'Ongeldig', bsn: '123456789', birthdate: '1975-03-30' },
]);

// oidc-provider ships no type declarations; these are the few members used here.
interface OidcInteraction {
  uid: string;
  prompt: { name: string; details: Record<string, unknown> };
  params: Record<string, unknown>;
  session?: { accountId?: string };
  grantId?: string;
  lastSubmission?: { login?: { accountId: string } };
}
interface OidcGrant {
  addOIDCScope(scope: string): void;
  addOIDCClaims(claims: string[]): void;
  save(): Promise<string>;
}
interface OidcProvider {
  callback(): (req: http.IncomingMessage, res: http.ServerResponse) => void;
  interactionDetails(req: http.IncomingMessage, res: http.ServerResponse): Promise<OidcInteraction>;
  interactionFinished(req: http.IncomingMessage, res: http.ServerResponse, result: Record<string, unknown>, opts?: { mergeWithLastSubmission?: boolean }): Promise<void>;
  Grant: { new (init: { accountId: string; clientId: string }): OidcGrant; find(id: string): Promise<OidcGrant | undefined> };
  Client: { find(id: string): Promise<{ clientName?: string } | undefined> };
}
interface OidcCheckCtor {
  new (reason: string, description: string, check: (ctx: { oidc: { result?: { login?: unknown } } }) => boolean): unknown;
}
interface OidcModule {
  Provider: new (issuer: string, config: Record<string, unknown>) => OidcProvider;
  interactionPolicy: { Check: OidcCheckCtor; base(): { get(name: string): { checks: unknown[] } } };
}

async function loadOidcProvider(): Promise<OidcModule> {
  // A variable specifier keeps this a real dynamic import of the ESM-only package without type declarations.
  const specifier = 'oidc-provider';
  return (await import(specifier)) as OidcModule;
}

async function readForm(req: http.IncomingMessage, limit = 8 * 1024): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error('form too large');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function sendHtml(res: http.ServerResponse, status: number, body: string, formAction = "'self'"): void {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Security-Policy': `default-src 'none'; style-src 'self'; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
  });
  res.end(body);
}

function validateOptions(opts: DemoIdpOptions, acrValues: readonly string[]): void {
  if (opts.issuerHost !== undefined && opts.issuerHost !== '127.0.0.1') throw new Error('the demo IdP listens on 127.0.0.1 only');
  if (!Array.isArray(opts.clients) || opts.clients.length === 0) throw new Error('the demo IdP needs at least one client');
  for (const c of opts.clients) {
    if (!c.clientId || !Array.isArray(c.redirectUris) || c.redirectUris.length === 0) throw new Error('each demo client needs a clientId and redirectUris');
    for (const u of c.redirectUris) {
      if (!URL.canParse(u) || !/^https?:$/.test(new URL(u).protocol)) throw new Error(`demo client ${c.clientId}: redirect URI is not an http(s) URL`);
    }
    if (c.clientAuth === 'client_secret_basic' && (!c.clientSecret || c.clientSecret.length < 16)) throw new Error(`demo client ${c.clientId}: clientSecret of at least 16 characters required`);
    if (c.clientAuth === 'private_key_jwt' && (!c.publicJwks || c.publicJwks.length === 0)) throw new Error(`demo client ${c.clientId}: publicJwks required for private_key_jwt`);
    if (c.acr !== undefined && !acrValues.includes(c.acr)) throw new Error(`demo client ${c.clientId}: acr is not one of the IdP's acr values`);
  }
}

export async function startDemoIdp(opts: DemoIdpOptions): Promise<DemoIdp> {
  const acrValues = opts.acrValues ?? DIGID_ACR_ORDER;
  const defaultAcr = opts.defaultAcr ?? acrValues[Math.min(2, acrValues.length - 1)];
  validateOptions(opts, acrValues);
  const accounts = Object.freeze([...(opts.accounts ?? DEMO_ACCOUNTS)]);
  const byId = new Map(accounts.map((a) => [a.id, a]));
  const clientsById = new Map(opts.clients.map((c) => [c.clientId, c]));
  // Browsers apply form-action to the redirects after a form post too: the final hop goes to the client's callback.
  const formAction = ["'self'", ...new Set(opts.clients.flatMap((c) => c.redirectUris.map((u) => new URL(u).origin)))].join(' ');
  const page = (res: http.ServerResponse, status: number, body: string) => sendHtml(res, status, body, formAction);
  const { Provider, interactionPolicy } = await loadOidcProvider();

  let handler: (req: http.IncomingMessage, res: http.ServerResponse) => void = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const server = http.createServer((req, res) => {
    opts.onRequest?.(req);
    handler(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${port}`;

  // Fresh keys per start: nothing to leak, nothing to rotate, and a restart invalidates any old demo token.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signingJwk = { ...privateKey.export({ format: 'jwk' }), kid: `demo-${randomBytes(6).toString('hex')}`, use: 'sig', alg: 'RS256' };

  const extraClaimNames = [...new Set(accounts.flatMap((a) => Object.keys(a.extraClaims ?? {})))];
  const policy = interactionPolicy.base();
  // A demo must show the choice of test person every time, even when the browser still has a session here.
  policy.get('login').checks.push(
    new interactionPolicy.Check('demo_always_login', 'the demo IdP asks for a test person every time', (ctx) => !ctx.oidc.result?.login),
  );

  const provider = new Provider(issuer, {
    clients: opts.clients.map((c) => ({
      client_id: c.clientId,
      client_name: c.name ?? c.clientId,
      redirect_uris: c.redirectUris,
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: c.clientAuth,
      ...(c.clientAuth === 'client_secret_basic' ? { client_secret: c.clientSecret } : { jwks: { keys: c.publicJwks } }),
    })),
    jwks: { keys: [signingJwk] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    acrValues: [...acrValues],
    claims: {
      // acr under openid: brokers always state the level in the ID token, not only when acr_values asked for it.
      openid: ['sub', 'acr', 'auth_time'],
      profile: ['name', 'given_name', 'family_name', 'birthdate', ...extraClaimNames],
      bsn: ['bsn'],
      acr: null,
      auth_time: null,
      sid: null,
      iss: null,
    },
    scopes: ['openid', 'profile', 'bsn'],
    responseTypes: ['code'],
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false }, userinfo: { enabled: true }, rpInitiatedLogout: { enabled: false } },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}`, policy },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 600, Grant: 600 },
    findAccount: async (_ctx: unknown, sub: string) => {
      const a = byId.get(sub);
      if (!a) return undefined;
      return {
        accountId: a.id,
        claims: async () => ({
          sub: a.id,
          name: a.name,
          given_name: a.givenName,
          family_name: a.familyName,
          birthdate: a.birthdate,
          bsn: a.bsn,
          ...(a.extraClaims ?? {}),
        }),
      };
    },
    renderError: async (ctx: { type: string; body: string }, out: { error?: string; error_description?: string }) => {
      ctx.type = 'html';
      ctx.body = errorPage(out.error_description ?? out.error ?? 'onbekende fout');
    },
  });
  const providerCallback = provider.callback();

  async function interaction(req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<void> {
    const m = /^\/interaction\/([A-Za-z0-9_-]{1,64})(?:\/(login|confirm))?$/.exec(path);
    if (!m) return sendHtml(res, 404, errorPage('Onbekende pagina.'));
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== m[1]) return sendHtml(res, 400, errorPage('Deze inlogpoging hoort niet bij deze browser.'));
    const clientId = String(details.params.client_id ?? '');
    const client = clientsById.get(clientId);
    const clientName = client?.name ?? clientId;
    const action = m[2];

    if (req.method === 'GET' && !action) {
      if (details.prompt.name === 'login') {
        return page(res, 200, loginPage(details.uid, clientName, accounts.map((a) => ({ id: a.id, name: a.name })), [...acrValues], client?.acr ?? defaultAcr));
      }
      if (details.prompt.name === 'consent') {
        const scopes = String(details.params.scope ?? '').split(' ').filter((s) => s !== 'openid');
        return page(res, 200, consentPage(details.uid, clientName, scopes));
      }
      return sendHtml(res, 400, errorPage('Onbekende stap.'));
    }
    if (req.method !== 'POST' || !action) return sendHtml(res, 405, errorPage('Methode niet toegestaan.'));
    const form = await readForm(req);
    if (form.get('do') === 'cancel') {
      return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'End-User aborted interaction' }, { mergeWithLastSubmission: false });
    }
    if (action === 'login' && details.prompt.name === 'login') {
      const account = byId.get(form.get('account') ?? '');
      if (!account) return sendHtml(res, 400, errorPage('Kies een testpersoon.'));
      const pickedAcr = form.get('acr') ?? '';
      const acr = account.acr ?? (acrValues.includes(pickedAcr) ? pickedAcr : client?.acr ?? defaultAcr);
      return provider.interactionFinished(req, res, { login: { accountId: account.id, acr, remember: false } }, { mergeWithLastSubmission: false });
    }
    if (action === 'confirm' && details.prompt.name === 'consent') {
      const accountId = details.session?.accountId;
      if (!accountId) return sendHtml(res, 400, errorPage('Niet ingelogd.'));
      const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId, clientId });
      if (!grant) return sendHtml(res, 400, errorPage('Toestemming niet gevonden.'));
      const pd = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
      if (pd.missingOIDCScope) grant.addOIDCScope(pd.missingOIDCScope.join(' '));
      if (pd.missingOIDCClaims) grant.addOIDCClaims(pd.missingOIDCClaims);
      const grantId = await grant.save();
      return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    }
    return sendHtml(res, 400, errorPage('Deze stap past niet bij de inlogpoging.'));
  }

  handler = (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === IDP_CSS_PATH && req.method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'text/css; charset=utf-8', 'Cache-Control': 'public, max-age=3600', 'X-Content-Type-Options': 'nosniff' });
      res.end(IDP_CSS);
      return;
    }
    if (path.startsWith('/interaction/')) {
      interaction(req, res, path).catch(() => {
        // Details stay out of the page: an expired interaction cookie is the usual cause.
        if (!res.headersSent) sendHtml(res, 400, errorPage('Deze inlogpoging is verlopen of ongeldig. Begin opnieuw vanuit het gesprek.'));
        else res.end();
      });
      return;
    }
    providerCallback(req, res);
  };

  return {
    issuer,
    accounts,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * The raw `idv-auth-method` configuration for a client of a running demo IdP (feed it to validateAuthMethod): the
 * DigiD-like scopes, claim mapping and minimum acr (substantieel), loopback http allowed because it is the demo.
 */
export function demoAuthMethodConfig(issuer: string, clientId: string, clientSecret: string): Record<string, unknown> {
  return {
    id: 'demo-digid',
    displayName: 'DigiD (TEST)',
    logo: 'digid',
    issuer,
    clientId,
    clientAuth: 'client_secret_basic',
    credentials: { clientSecret },
    scopes: ['openid', 'profile', 'bsn'],
    acr: { minimum: DIGID_ACR_ORDER[2], order: [...DIGID_ACR_ORDER] },
    claims: [
      { claim: 'bsn', key: 'bsn', labelNl: 'BSN', labelEn: 'Citizen service number', kind: 'bsn' },
      { claim: 'name', key: 'name', labelNl: 'Naam', labelEn: 'Name', kind: 'text' },
      { claim: 'birthdate', key: 'birthdate', labelNl: 'Geboortedatum', labelEn: 'Date of birth', kind: 'date' },
    ],
    allowInsecureLoopback: true,
  };
}

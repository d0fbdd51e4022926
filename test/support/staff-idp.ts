import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type * as Jose from 'jose' with { 'resolution-mode': 'import' };

/**
 * A gemeente's identity provider for staff, on loopback, for tests: a real OpenID Provider (oidc-provider) with
 * employees in groups, sessions (a second sign-in goes straight back), RP-initiated logout (end_session_endpoint,
 * with its confirmation page) and one confidential client. Group membership can change while it runs (`setGroups`),
 * as an administrator changes it at the real provider. Claims come in the shapes of the providers gemeenten use:
 * `groups` (Entra ID, a Keycloak group mapper), `roles` (Entra ID app roles), `realm_access.roles` (Keycloak).
 *
 * The server listens at once (its issuer is known, so the runtime under test can be configured with it) and answers
 * 503 until `configure()` registers the client with the redirect URIs (known once the runtime listens).
 */

export interface StaffAccount {
  /** The subject (`sub`). */
  id: string;
  username: string;
  name: string;
  email: string;
  groups: string[];
}

export interface StaffIdpOptions {
  accounts: StaffAccount[];
  /** Where the groups go: `groups` (default), `roles`, or Keycloak's `realm_access.roles`. */
  groupClaim?: 'groups' | 'roles' | 'realm_access.roles';
  /** Release the groups in userinfo only, not in the ID token (Keycloak's default for realm roles). */
  groupsInUserinfoOnly?: boolean;
  /** The client's secret (default: random); another provider with the same client plays a mix-up attacker. */
  clientSecret?: string;
}

export interface StaffIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /**
   * Registers the client. With `backchannelLogoutUri` the provider sends OpenID Connect Back-Channel Logout tokens
   * there (with `sid`, session required) when a person signs out at it.
   */
  configure(o: { redirectUris: string[]; postLogoutRedirectUris: string[]; backchannelLogoutUri?: string }): Promise<void>;
  /**
   * A logout token signed like the provider's own (its key, kid, RS256) with these claims, or with a stranger's key
   * (`foreignKey`), to play hostile and edge-case tokens. `header` adds to / overrides the protected header.
   */
  signLogoutToken(claims: Record<string, unknown>, o?: { foreignKey?: boolean; header?: Record<string, unknown> }): Promise<string>;
  setGroups(id: string, groups: string[]): void;
  /** Requests to the authorization endpoint so far. */
  readonly hits: { authorize: number; endSession: number };
  close(): Promise<void>;
}

// oidc-provider ships no type declarations; these are the few members used here.
interface OidcInteraction {
  uid: string;
  prompt: { name: string };
  params: Record<string, unknown>;
}
interface OidcGrantInstance {
  addOIDCScope(scope: string): void;
  addOIDCClaims(claims: string[]): void;
  save(): Promise<string>;
}
interface OidcProvider {
  callback(): (req: http.IncomingMessage, res: http.ServerResponse) => void;
  interactionDetails(req: http.IncomingMessage, res: http.ServerResponse): Promise<OidcInteraction>;
  interactionFinished(req: http.IncomingMessage, res: http.ServerResponse, result: Record<string, unknown>, opts?: { mergeWithLastSubmission?: boolean }): Promise<void>;
}
interface GrantCtx {
  oidc: {
    client: { clientId: string };
    session: { accountId: string; grantIdFor(clientId: string): string | undefined };
    result?: { consent?: { grantId?: string } };
    provider: {
      Grant: { new (init: { accountId: string; clientId: string }): OidcGrantInstance; find(id: string): Promise<OidcGrantInstance | undefined> };
    };
  };
}

const CLAIMS = ['name', 'given_name', 'family_name', 'preferred_username', 'email', 'groups', 'roles', 'realm_access'];

function escape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function readForm(req: http.IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export async function startStaffIdp(o: StaffIdpOptions): Promise<StaffIdp> {
  const accounts = new Map(o.accounts.map((a) => [a.id, { ...a, groups: [...a.groups] }]));
  const groupClaim = o.groupClaim ?? 'groups';
  const clientId = 'idvideo-staff';
  const clientSecret = o.clientSecret ?? randomBytes(24).toString('base64url');
  const hits = { authorize: 0, endSession: 0 };
  let handler: (req: http.IncomingMessage, res: http.ServerResponse) => void = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const server = http.createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const groupsFor = (groups: string[]): Record<string, unknown> =>
    groupClaim === 'realm_access.roles' ? { realm_access: { roles: groups } } : { [groupClaim]: groups };

  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

  async function signLogoutToken(claims: Record<string, unknown>, so: { foreignKey?: boolean; header?: Record<string, unknown> } = {}): Promise<string> {
    const jose: typeof Jose = await import('jose');
    return new jose.SignJWT(claims as Jose.JWTPayload)
      .setProtectedHeader({ alg: 'RS256', kid: 'staff-idp', typ: 'logout+jwt', ...so.header } as Jose.JWTHeaderParameters)
      .sign(so.foreignKey ? stranger : privateKey);
  }

  async function configure(c: { redirectUris: string[]; postLogoutRedirectUris: string[]; backchannelLogoutUri?: string }): Promise<void> {
    const specifier = 'oidc-provider';
    const { Provider } = (await import(specifier)) as { Provider: new (issuer: string, config: Record<string, unknown>) => OidcProvider };
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: clientId,
          client_secret: clientSecret,
          redirect_uris: c.redirectUris,
          post_logout_redirect_uris: c.postLogoutRedirectUris,
          response_types: ['code'],
          grant_types: ['authorization_code'],
          token_endpoint_auth_method: 'client_secret_basic',
          ...(c.backchannelLogoutUri ? { backchannel_logout_uri: c.backchannelLogoutUri, backchannel_logout_session_required: true } : {}),
        },
      ],
      jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'staff-idp', use: 'sig', alg: 'RS256' }] },
      cookies: { keys: [randomBytes(32).toString('base64url')] },
      claims: { openid: ['sub'], profile: CLAIMS.filter((x) => x !== 'email'), email: ['email'] },
      scopes: ['openid', 'profile', 'email'],
      responseTypes: ['code'],
      pkce: { required: () => true },
      // Its back-channel logout tokens go to the relying party on loopback: without this oidc-provider's SSRF guard
      // refuses special-use addresses (127.0.0.1), which is right for a real provider and in the way of a test one.
      fetch: (url: string, init: RequestInit & { dispatcher?: unknown }) => {
        delete init.dispatcher;
        return fetch(url, init);
      },
      // Like Entra ID and Keycloak's mappers: the scopes' claims in the ID token itself, not only at userinfo.
      conformIdTokenClaims: false,
      features: {
        devInteractions: { enabled: false },
        userinfo: { enabled: true },
        backchannelLogout: { enabled: true },
        rpInitiatedLogout: {
          enabled: true,
          logoutSource: async (ctx: { body: string }, form: string) => {
            ctx.body = `<!DOCTYPE html><html lang="nl"><head><meta charset="utf-8"><title>Afmelden (test-IdP)</title></head><body><main>
<h1>Afmelden bij de gemeente (test)?</h1>${form}
<button id="logout-yes" type="submit" form="op.logoutForm" value="yes" name="logout">Ja, afmelden</button></main></body></html>`;
          },
        },
      },
      // First-party client: no consent page (oidc-provider's documented recipe for skipping consent).
      loadExistingGrant: async (ctx: GrantCtx) => {
        const existing = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
        if (existing) return ctx.oidc.provider.Grant.find(existing);
        const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
        grant.addOIDCScope('openid profile email');
        grant.addOIDCClaims(CLAIMS);
        await grant.save();
        return grant;
      },
      interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
      ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
      findAccount: async (_ctx: unknown, sub: string) => {
        const a = accounts.get(sub);
        if (!a) return undefined;
        return {
          accountId: a.id,
          claims: async (use: string) => {
            const [given, ...family] = a.name.split(' ');
            return {
              sub: a.id,
              name: a.name,
              given_name: given,
              family_name: family.join(' '),
              preferred_username: a.username,
              email: a.email,
              ...(o.groupsInUserinfoOnly && use === 'id_token' ? {} : groupsFor(a.groups)),
            };
          },
        };
      },
    });
    const callback = provider.callback();

    async function interaction(req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<void> {
      const details = await provider.interactionDetails(req, res);
      if (req.method === 'GET' && path === `/interaction/${details.uid}`) {
        const options = [...accounts.values()].map((a) => `<option value="${escape(a.id)}">${escape(a.name)}</option>`).join('');
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        res.end(`<!DOCTYPE html><html lang="nl"><head><meta charset="utf-8"><title>Inloggen (test-IdP)</title></head><body><main>
<h1>Inloggen bij de gemeente (test)</h1>
<form method="post" action="/interaction/${details.uid}/login"><label for="account">Medewerker</label>
<select id="account" name="account">${options}</select>
<button type="submit" id="login">Inloggen</button></form></main></body></html>`);
        return;
      }
      if (req.method === 'POST' && path === `/interaction/${details.uid}/login`) {
        const form = await readForm(req);
        const account = accounts.get(form.get('account') ?? '');
        if (!account) {
          res.writeHead(400).end('unknown account');
          return;
        }
        // remember: the provider session outlives this sign-in, so a second sign-in goes straight back.
        await provider.interactionFinished(req, res, { login: { accountId: account.id, remember: true } }, { mergeWithLastSubmission: false });
        return;
      }
      res.writeHead(404).end();
    }

    handler = (req, res) => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      if (path === '/auth') hits.authorize++;
      if (path === '/session/end') hits.endSession++;
      if (path.startsWith('/interaction/')) {
        interaction(req, res, path).catch(() => {
          if (!res.headersSent) res.writeHead(400).end('interaction failed');
        });
        return;
      }
      callback(req, res);
    };
  }

  return {
    issuer,
    clientId,
    clientSecret,
    configure,
    signLogoutToken,
    setGroups: (id, groups) => {
      const a = accounts.get(id);
      if (!a) throw new Error(`no account ${id}`);
      a.groups = [...groups];
    },
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * A browser without a browser: fetch with one cookie jar for every host (cookies on 127.0.0.1 are shared between
 * ports, as in a real browser), redirects followed by hand, the test IdP's pages filled in.
 */
export class HttpBrowser {
  readonly jar = new Map<string, string>();

  private keep(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = (pair ?? '').indexOf('=');
      if (i < 1) continue;
      const name = pair!.slice(0, i).trim();
      const value = pair!.slice(i + 1).trim();
      if (/max-age=0/i.test(c) || /expires=Thu, 01 Jan 1970/i.test(c) || value === '') this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }

  async request(url: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = { cookie: [...this.jar].map(([k, v]) => `${k}=${v}`).join('; '), ...init.headers };
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers.origin ??= new URL(url).origin;
    }
    const res = await fetch(url, { method: init.method ?? (init.form ? 'POST' : 'GET'), headers, body: init.form ? new URLSearchParams(init.form).toString() : undefined, redirect: 'manual' });
    this.keep(res);
    return res;
  }

  /**
   * Follows redirects from `url` until a page (not a redirect) or a URL for which `stop` says yes; then returns that
   * URL, and the page's status and body (status 0, empty body when stopped before requesting it).
   */
  async follow(url: string, stop: (u: string) => boolean = () => false): Promise<{ url: string; status: number; body: string }> {
    let current = url;
    for (let step = 0; step < 20; step++) {
      if (stop(current)) return { url: current, status: 0, body: '' };
      const res = await this.request(current);
      if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
        await res.arrayBuffer();
        current = new URL(res.headers.get('location')!, current).href;
        continue;
      }
      return { url: current, status: res.status, body: await res.text() };
    }
    throw new Error(`too many redirects from ${url}`);
  }

  /** On the test IdP's login page (`page` as follow() returned it): signs in as `account` and follows on. */
  async loginAt(page: { url: string; body: string }, account: string, stop?: (u: string) => boolean): Promise<{ url: string; status: number; body: string }> {
    const action = /<form method="post" action="([^"]+\/login)"/.exec(page.body)?.[1];
    if (!action) throw new Error(`not the test IdP's login page: ${page.url}`);
    const res = await this.request(new URL(action, page.url).href, { form: { account } });
    const location = res.headers.get('location');
    await res.arrayBuffer();
    if (!location) throw new Error(`the IdP answered ${res.status} to the login`);
    return this.follow(new URL(location, page.url).href, stop);
  }

  /** On the test IdP's logout confirmation page: confirms and follows on. */
  async confirmLogout(page: { url: string; body: string }): Promise<{ url: string; status: number; body: string }> {
    const action = /<form[^>]*id="op.logoutForm"[^>]*action="([^"]+)"/.exec(page.body)?.[1] ?? /<form[^>]*action="([^"]+)"[^>]*id="op.logoutForm"/.exec(page.body)?.[1];
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(page.body)?.[1];
    if (!action || !xsrf) throw new Error(`not the test IdP's logout page: ${page.url}`);
    const res = await this.request(new URL(action, page.url).href, { form: { xsrf, logout: 'yes' } });
    const location = res.headers.get('location');
    await res.arrayBuffer();
    if (!location) throw new Error(`the IdP answered ${res.status} to the logout`);
    return this.follow(new URL(location, page.url).href);
  }
}

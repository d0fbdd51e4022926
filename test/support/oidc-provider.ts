import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { startDemoIdp, DIGID_ACR_ORDER, type DemoAccount, type DemoIdp } from '../../lib/demo/idp';
import { validateAuthMethod, type AuthMethod } from '../../lib/auth/method';

/**
 * A real OpenID Provider on loopback for tests (the demo IdP), with one client per client authentication method, and
 * a driver that walks its login and consent pages with plain HTTP (manual redirects, own cookie jar) — what a browser
 * would do, without one.
 */

export interface TestOp {
  idp: DemoIdp;
  issuer: string;
  redirectUri: string;
  secretClient: { clientId: string; clientSecret: string };
  jwtClient: { clientId: string; privateJwk: Record<string, unknown>; privatePem?: string; kid: string };
  close(): Promise<void>;
}

export interface TestOpOptions {
  redirectUri: string;
  accounts?: DemoAccount[];
  /** Default acr of both clients. */
  acr?: string;
  /** Key type of the private_key_jwt client (EC P-256 by default). */
  jwtKeyType?: 'ec' | 'rsa' | 'ed25519';
  /** Hand the private key to the method as PEM instead of JWK. */
  jwtKeyAsPem?: boolean;
  /** Sees each request the provider gets (method, path and the traceparent header). */
  onRequest?: (r: { method: string; path: string; traceparent?: string }) => void;
}

export async function startTestOp(opts: TestOpOptions): Promise<TestOp> {
  const clientSecret = randomBytes(24).toString('base64url');
  const kid = `test-${randomBytes(4).toString('hex')}`;
  const type = opts.jwtKeyType ?? 'ec';
  const { privateKey, publicKey } =
    type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : type === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const privateJwk = { ...privateKey.export({ format: 'jwk' }), kid };
  const publicJwk = { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig' };
  const privatePem = opts.jwtKeyAsPem ? (privateKey.export({ format: 'pem', type: 'pkcs8' }) as string) : undefined;
  const idp = await startDemoIdp({
    issuerHost: '127.0.0.1',
    ...(opts.accounts ? { accounts: opts.accounts } : {}),
    ...(opts.onRequest
      ? { onRequest: (req: import('node:http').IncomingMessage) => opts.onRequest!({ method: req.method ?? '', path: (req.url ?? '').split('?')[0], ...(typeof req.headers.traceparent === 'string' ? { traceparent: req.headers.traceparent } : {}) }) }
      : {}),
    clients: [
      { clientId: 'idv-secret', clientAuth: 'client_secret_basic', clientSecret, redirectUris: [opts.redirectUri], ...(opts.acr ? { acr: opts.acr } : {}) },
      { clientId: 'idv-jwt', clientAuth: 'private_key_jwt', publicJwks: [publicJwk], redirectUris: [opts.redirectUri], ...(opts.acr ? { acr: opts.acr } : {}) },
    ],
  });
  return {
    idp,
    issuer: idp.issuer,
    redirectUri: opts.redirectUri,
    secretClient: { clientId: 'idv-secret', clientSecret },
    jwtClient: { clientId: 'idv-jwt', privateJwk, ...(privatePem ? { privatePem } : {}), kid },
    close: () => idp.close(),
  };
}

/** The standard DigiD-like method against the test OP, validated like any configuration. */
export function testMethod(op: TestOp, auth: 'secret' | 'jwt', overrides: Record<string, unknown> = {}): AuthMethod {
  return validateAuthMethod({
    id: auth === 'secret' ? 'digid-test' : 'digid-test-jwt',
    displayName: 'DigiD (test)',
    logo: 'digid',
    issuer: op.issuer,
    clientId: auth === 'secret' ? op.secretClient.clientId : op.jwtClient.clientId,
    clientAuth: auth === 'secret' ? 'client_secret_basic' : 'private_key_jwt',
    credentials: auth === 'secret' ? { clientSecret: op.secretClient.clientSecret } : op.jwtClient.privatePem ? { privateKey: op.jwtClient.privatePem, privateKeyId: op.jwtClient.kid } : { privateKey: op.jwtClient.privateJwk },
    scopes: ['openid', 'profile', 'bsn'],
    acr: { minimum: DIGID_ACR_ORDER[2], order: [...DIGID_ACR_ORDER] },
    claims: [
      { claim: 'bsn', key: 'bsn', labelNl: 'BSN', labelEn: 'Citizen service number', kind: 'bsn' },
      { claim: 'name', key: 'name', labelNl: 'Naam', labelEn: 'Name' },
      { claim: 'birthdate', key: 'birthdate', labelNl: 'Geboortedatum', labelEn: 'Date of birth', kind: 'date' },
    ],
    allowInsecureLoopback: true,
    ...overrides,
  });
}

export interface LoginOptions {
  /** Where the OP finally sends the browser; the driver stops there and returns that URL. */
  redirectUri: string;
  account?: string;
  acr?: string;
  /** 'cancel' presses "Annuleren" on the login page. */
  login?: 'login' | 'cancel';
  /** 'cancel' presses "Weigeren" on the consent page. */
  consent?: 'allow' | 'cancel';
}

/** Walks the OP's pages like a browser would and returns the callback URL (with code/state or error). */
export async function loginWithHttp(authorizationUrl: string, opts: LoginOptions): Promise<string> {
  const jar = new Map<string, string>();
  const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const remember = (res: Response) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = (pair ?? '').indexOf('=');
      if (eq > 0) jar.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
    }
  };
  let url = authorizationUrl;
  let method = 'GET';
  let body: string | undefined;
  for (let step = 0; step < 20; step++) {
    if (url.startsWith(opts.redirectUri)) return url;
    const res = await fetch(url, {
      method,
      redirect: 'manual',
      headers: { cookie: cookieHeader(), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      ...(body ? { body } : {}),
    });
    remember(res);
    method = 'GET';
    body = undefined;
    if (res.status >= 300 && res.status < 400) {
      await res.arrayBuffer();
      url = new URL(res.headers.get('location') ?? '', url).href;
      continue;
    }
    const html = await res.text();
    if (res.status !== 200) throw new Error(`OP answered ${res.status} at ${new URL(url).pathname}`);
    const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
    if (!action) throw new Error(`no form on OP page ${new URL(url).pathname}`);
    const form = new URLSearchParams();
    if (action.endsWith('/login')) {
      form.set('account', opts.account ?? 'jan');
      if (opts.acr) form.set('acr', opts.acr);
      form.set('do', opts.login ?? 'login');
    } else {
      form.set('do', opts.consent ?? 'allow');
    }
    url = new URL(action.replace(/&amp;/g, '&'), url).href;
    method = 'POST';
    body = form.toString();
  }
  throw new Error('too many steps at the OP');
}

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { validateAuthMethod, type AuthMethod } from '../auth/method';
import { demoAuthMethodConfig, startDemoIdp, type DemoIdp } from '../demo/idp';
import type { Services } from '../services';

/** What the demo IdP offers in demo mode: the two methods and the running provider (closed with the services). */
export interface DemoMethods {
  idp: DemoIdp;
  methods: AuthMethod[];
}

const KEY = 'identification.demo-idp';

/**
 * Demo mode only: starts the test OpenID provider on 127.0.0.1 (once per process) and returns two methods that use it,
 * marked as tests everywhere the resident sees them — "DigiD (TEST — geen echte DigiD)" with client_secret_basic and
 * "Yivi (TEST — geen echte Yivi)" with private_key_jwt. In production this refuses, whatever a flow says.
 */
export function demoMethods(services: Services, redirectUri: string): Promise<DemoMethods> {
  if (services.config.mode !== 'demo') return Promise.reject(new Error('the demo identity provider exists in demo mode only'));
  const holder = services.memo(KEY, () => ({ pending: undefined as Promise<DemoMethods> | undefined }));
  holder.pending ??= (async () => {
    const clientSecret = randomBytes(24).toString('base64url');
    const kid = `demo-yivi-${randomBytes(4).toString('hex')}`;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const idp = await startDemoIdp({
      issuerHost: '127.0.0.1',
      clients: [
        { clientId: 'idv-demo-digid', name: 'ID Video (demo) — DigiD TEST', clientAuth: 'client_secret_basic', clientSecret, redirectUris: [redirectUri] },
        {
          clientId: 'idv-demo-yivi',
          name: 'ID Video (demo) — Yivi TEST',
          clientAuth: 'private_key_jwt',
          publicJwks: [{ ...publicKey.export({ format: 'jwk' }), kid, use: 'sig' }],
          redirectUris: [redirectUri],
        },
      ],
    });
    services.onClose(() => idp.close());
    const digid = validateAuthMethod({ ...demoAuthMethodConfig(idp.issuer, 'idv-demo-digid', clientSecret), displayName: 'DigiD (TEST — geen echte DigiD)' });
    const yivi = validateAuthMethod({
      id: 'demo-yivi',
      displayName: 'Yivi (TEST — geen echte Yivi)',
      logo: 'yivi',
      issuer: idp.issuer,
      clientId: 'idv-demo-yivi',
      clientAuth: 'private_key_jwt',
      credentials: { privateKey: { ...privateKey.export({ format: 'jwk' }), kid } },
      scopes: ['openid', 'profile'],
      claims: [
        { claim: 'name', key: 'name', labelNl: 'Naam', labelEn: 'Name', kind: 'text' },
        { claim: 'birthdate', key: 'birthdate', labelNl: 'Geboortedatum', labelEn: 'Date of birth', kind: 'date' },
      ],
      allowInsecureLoopback: true,
    });
    return { idp, methods: [digid, yivi] };
  })().catch((e: unknown) => {
    holder.pending = undefined;
    throw e;
  });
  return holder.pending;
}

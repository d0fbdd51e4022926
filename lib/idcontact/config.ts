import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { UserError, isUserError } from '../errors';
import type { ClaimMapping } from '../auth/method';
import { hashToken } from '../security/tokens';
import { checkCoreFields, normaliseFingerprint } from './core-fields';
import type { IdContactAlgorithms } from './algorithms';
import type { SigningKey, TokenKeys } from './token';

export { normaliseFingerprint };

/**
 * One ID Contact core ID Video works with (an `idv-idcontact-core` config node): where the core is, which purpose
 * (tag) its sessions are for, which attributes that purpose yields and how the agent sees them, our private key the
 * results are encrypted to, the auth plugins' public keys whose signatures count, the algorithms allowed, and how the
 * core proves itself when it calls POST /start_communication. Keys and secrets come from the node's credentials and
 * never appear in a message, a log line or an error text.
 */
export interface IdContactCore {
  /** The core's base URL without a trailing slash (https, or http on loopback for tests and demo). */
  coreUrl: string;
  /** Its origin: the only place session-option images are fetched from. */
  coreOrigin: string;
  /** The ID Contact purpose tag (core configuration `purposes[].tag`). */
  purpose: string;
  /** Method ids of this core's auth methods are `<prefix>-<tag>` (processing log, msg.methods). */
  methodPrefix: string;
  /** Attribute tag -> our key, labels and kind; attributes not listed are dropped unseen. */
  attributes: ClaimMapping[];
  keys: TokenKeys;
  clockToleranceSec: number;
  allowInsecureLoopback: boolean;
  /** How a call to POST /start_communication proves it comes from this core. */
  startAuth: StartAuth;
}

export type StartAuth =
  | { mode: 'secret'; /** SHA-256 hex of the shared secret; the secret itself is not kept. */ secretHash: string }
  | { mode: 'client-cert'; /** SHA-256 fingerprint of the core's client certificate, lowercase hex without colons. */ sha256: string };

/** Shortest shared secret for start_communication. */
const START_SECRET_MIN = 32;

function readPrivateKey(v: string): KeyObject {
  const t = v.trim();
  const ko = t.startsWith('{') ? createPrivateKey({ key: JSON.parse(t) as never, format: 'jwk' }) : createPrivateKey(t);
  return ko;
}

/** One or more public keys: PEM blocks one after another, a JWK, or a JWK Set `{"keys": [...]}`. */
function readPublicKeys(v: string): SigningKey[] {
  const t = v.trim();
  if (t.startsWith('{')) {
    const parsed = JSON.parse(t) as { keys?: unknown[] } & Record<string, unknown>;
    const list = Array.isArray(parsed.keys) ? parsed.keys : [parsed];
    return list.map((jwk) => {
      const j = jwk as Record<string, unknown>;
      // Only the public part is read, even if a private JWK was pasted by mistake.
      const pub = Object.fromEntries(Object.entries(j).filter(([k]) => ['kty', 'n', 'e', 'crv', 'x', 'y'].includes(k)));
      return { key: createPublicKey({ key: pub as never, format: 'jwk' }), ...(typeof j.kid === 'string' ? { kid: j.kid } : {}) };
    });
  }
  const blocks = t.match(/-----BEGIN [A-Z ]+-----[\s\S]+?-----END [A-Z ]+-----/g) ?? [];
  return blocks.map((b) => ({ key: createPublicKey(b) }));
}

function keyProblem(k: KeyObject): string | undefined {
  if (k.asymmetricKeyType === 'rsa') return (k.asymmetricKeyDetails?.modulusLength ?? 0) < 2048 ? 'RSA keys must be at least 2048 bits' : undefined;
  if (k.asymmetricKeyType === 'ec') return k.asymmetricKeyDetails?.namedCurve === 'prime256v1' ? undefined : 'EC keys must use the P-256 curve';
  return 'keys must be RSA or EC P-256';
}

/**
 * Validates an idv-idcontact-core configuration: the editor's flat fields and the node's credentials. Returns a
 * frozen IdContactCore or throws UserError(400, 'invalid_idcontact_core') listing every problem by field; no key,
 * secret or key parser message ever appears in it.
 */
export function validateIdContactCore(def: Record<string, unknown>, creds: Record<string, string | undefined>): IdContactCore {
  const fields: Record<string, string> = {};
  const checked = checkCoreFields(def, fields);
  const algorithms: Partial<IdContactAlgorithms> = checked?.algorithms ?? {};

  let decryptionKey: KeyObject | undefined;
  if (!creds.decryptionKey?.trim()) fields.decryptionKey = 'required: our private key (PEM or JWK), RSA ≥ 2048 or EC P-256';
  else {
    try {
      decryptionKey = readPrivateKey(creds.decryptionKey);
      const kp = keyProblem(decryptionKey);
      if (kp) {
        fields.decryptionKey = kp;
        decryptionKey = undefined;
      }
    } catch {
      fields.decryptionKey = 'could not be read (expected a private key as PEM or JWK)';
    }
  }
  if (decryptionKey && algorithms.keyManagement) {
    const fits = algorithms.keyManagement.some((a) => (decryptionKey!.asymmetricKeyType === 'rsa' ? a.startsWith('RSA') : a.startsWith('ECDH')));
    if (!fits) fields.keyManagementAlgs = `no allowed algorithm fits a ${decryptionKey.asymmetricKeyType?.toUpperCase()} key`;
  }

  let signingKeys: SigningKey[] = [];
  if (!creds.signingKeys?.trim()) fields.signingKeys = "required: the auth plugins' public signing keys (PEM, JWK or JWK Set)";
  else {
    try {
      signingKeys = readPublicKeys(creds.signingKeys);
      if (signingKeys.length === 0 || signingKeys.length > 20) fields.signingKeys = 'give 1 to 20 public keys';
      for (const k of signingKeys) {
        const kp = keyProblem(k.key);
        if (kp) fields.signingKeys = kp;
      }
    } catch {
      fields.signingKeys = 'could not be read (expected public keys as PEM, a JWK or a JWK Set)';
    }
  }

  let startAuth: StartAuth | undefined;
  if (checked?.startMode === 'client-cert' && checked.clientCertFingerprint) startAuth = { mode: 'client-cert', sha256: checked.clientCertFingerprint };
  else if (checked?.startMode === 'secret') {
    const secret = creds.startSecret ?? '';
    // The secret only matters once start_communication is used; without one the endpoint refuses every call.
    if (secret && (secret.length < START_SECRET_MIN || secret.length > 512 || /[\u0000-\u0020\u007f]/.test(secret))) {
      fields.startSecret = `at least ${START_SECRET_MIN} characters without spaces`;
    } else startAuth = { mode: 'secret', secretHash: secret ? hashToken(secret) : '' };
  }

  if (Object.keys(fields).length > 0 || !checked || !decryptionKey || !startAuth) {
    const list = Object.entries(fields).map(([f, m]) => `${f}: ${m}`).join('; ');
    throw new UserError(400, 'invalid_idcontact_core', `ID Contact core configuration is invalid (${list})`, fields);
  }
  return Object.freeze({
    coreUrl: checked.coreUrl,
    coreOrigin: checked.coreOrigin,
    purpose: checked.purpose,
    methodPrefix: checked.methodPrefix,
    attributes: Object.freeze(checked.attributes) as ClaimMapping[],
    keys: Object.freeze({ decryptionKey, signingKeys: Object.freeze(signingKeys) as SigningKey[], algorithms: checked.algorithms }),
    clockToleranceSec: checked.clockToleranceSec,
    allowInsecureLoopback: checked.allowInsecureLoopback,
    startAuth: Object.freeze(startAuth),
  });
}

/** The same as validateIdContactCore, as a result for a config node (errors listed, never thrown). */
export function coreFromEditor(def: Record<string, unknown>, creds: Record<string, string | undefined>): { ok: true; core: IdContactCore } | { ok: false; errors: string[] } {
  try {
    return { ok: true, core: validateIdContactCore(def, creds) };
  } catch (e) {
    if (isUserError(e) && e.fields) return { ok: false, errors: Object.entries(e.fields).map(([f, m]) => `${f}: ${m}`) };
    return { ok: false, errors: ['the configuration could not be read'] };
  }
}

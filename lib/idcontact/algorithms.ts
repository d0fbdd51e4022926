/**
 * The JOSE algorithms of ID Contact auth results that ID Video can accept, and the defaults: what ID Contact's
 * reference implementation uses (id-contact-jwt: RSA-OAEP or ECDH-ES with A128CBC-HS256, around RS256 or ES256).
 * Kept free of imports so the editor's bundle (resources/editor.js) can check the same lists.
 */
export interface IdContactAlgorithms {
  keyManagement: string[];
  contentEncryption: string[];
  signature: string[];
}

export const SUPPORTED_ALGORITHMS = {
  keyManagement: ['RSA-OAEP', 'RSA-OAEP-256', 'ECDH-ES', 'ECDH-ES+A128KW', 'ECDH-ES+A256KW'],
  contentEncryption: ['A128CBC-HS256', 'A256CBC-HS512', 'A128GCM', 'A256GCM'],
  signature: ['RS256', 'PS256', 'ES256'],
} as const;

export const DEFAULT_ALGORITHMS: IdContactAlgorithms = {
  keyManagement: ['RSA-OAEP', 'ECDH-ES'],
  contentEncryption: ['A128CBC-HS256'],
  signature: ['RS256', 'ES256'],
};

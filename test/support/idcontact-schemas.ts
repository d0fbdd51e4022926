/**
 * The ID Contact message shapes our tests hold ID Video to, written as JSON Schema from the published OpenAPI
 * definitions (id-contact/docs docs/openapi/core.openapi.yml v0.0.3: `/start` request body and `/session_options`
 * answer; docs/openapi/comm_plugin.openapi.yml: `/start_communication` request and answer) and checked with ajv.
 * The core's own parser (id-contact/core src/start.rs) decides which of the /start variants a body is:
 * StartRequestAuthOnly is `{purpose, auth_method, comm_url, attr_url?}`.
 */
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

const ajv = new Ajv({ allErrors: true, strict: true });
addFormats(ajv);

const str = { type: 'string' } as const;

/** core.openapi.yml `POST /start` requestBody, narrowed to the auth-only variant (comm_url given, no comm_method). */
export const startAuthOnlySchema = {
  type: 'object',
  properties: {
    purpose: str,
    auth_method: str,
    comm_url: { type: 'string', format: 'uri' },
    attr_url: { type: 'string', format: 'uri' },
  },
  required: ['purpose', 'auth_method', 'comm_url'],
  additionalProperties: false,
} as const;

/** core.openapi.yml `POST /start` 200 answer. */
export const clientUrlSchema = { type: 'object', properties: { client_url: { type: 'string', format: 'uri' } }, required: ['client_url'] } as const;

/** core.openapi.yml `GET /session_options/{purpose}` 200 answer (image_path as the core sends it, src/options.rs). */
export const sessionOptionsSchema = {
  type: 'object',
  properties: {
    auth_methods: { type: 'array', minItems: 1, items: { type: 'object', properties: { tag: str, name: str, image_path: str }, required: ['tag'] } },
    comm_methods: { type: 'array', minItems: 1, items: { type: 'object', properties: { tag: str, name: str, image_path: str }, required: ['tag'] } },
  },
  required: ['auth_methods', 'comm_methods'],
} as const;

/** comm_plugin.openapi.yml `POST /start_communication` requestBody. */
export const startCommunicationRequestSchema = {
  type: 'object',
  properties: { purpose: str, auth_result: str },
  required: ['purpose'],
} as const;

/** comm_plugin.openapi.yml `POST /start_communication` 200 answer. */
export const startCommunicationResponseSchema = {
  type: 'object',
  properties: { client_url: { type: 'string', format: 'uri' }, attr_url: { type: 'string', format: 'uri' } },
  required: ['client_url'],
} as const;

const compiled = new Map<object, ValidateFunction>();

/** The schema's violations of `value` as readable lines; empty when it conforms. */
export function violations(schema: object, value: unknown): string[] {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '(body)'} ${e.message ?? ''}`);
}

import { traceparent, type SpanContext } from '../trace/context';
import { baseUrlProblem } from './config';

/**
 * A client of the Klantinteracties API of Open Klant (OpenAPI 0.9.0, VNG/Maykin, EUPL-1.2; the specification is in
 * test/fixtures/openklant/klantinteracties-openapi.yaml). Only the four calls ID Video needs. Token authentication
 * (`Authorization: Token <token>`, the spec's `tokenAuth`), a `traceparent` header on every call (Logboek
 * Dataverwerkingen), a timeout per call. Errors are OpenKlantError with a code: never a URL (a partij search carries
 * the BSN in its query), a response body or a library message.
 */

export interface OpenKlantConfig {
  /** API root, e.g. https://openklant.example.nl/klantinteracties/api/v1 (no trailing slash needed). */
  baseUrl: string;
  token: string;
  /** Per call (default 10 s). */
  timeoutMs?: number;
}

/** How the agent is found among Open Klant's actoren (actoridentificator); defaults as KISS registers employees. */
export interface ActorIdentification {
  codeObjecttype: string;
  codeRegister: string;
  codeSoortObjectId: string;
}

/**
 * How a klantcontact names the appointment it was about: an onderwerpobject whose onderwerpobjectidentificator points
 * into ID Video's register (Klantinteracties API: "Gegevens die een onderwerpobject in een extern register uniek
 * identificeren"; `GET /klantcontacten` filters on its four parts). It is our external reference: the API has no
 * idempotency key, so before a retry of maak-klantcontact the client asks whether a contact with this reference exists.
 */
export const APPOINTMENT_REFERENCE = { codeObjecttype: 'videoafspraak', codeRegister: 'idvideo', codeSoortObjectId: 'afspraak-id' } as const;

export const DEFAULT_ACTOR_IDENTIFICATION: ActorIdentification = { codeObjecttype: 'mdw', codeRegister: 'handmatig', codeSoortObjectId: 'gebruikersnaam' };

export type OpenKlantErrorCode =
  | 'openklant_timeout'
  | 'openklant_unreachable'
  | 'openklant_unauthorized'
  | 'openklant_invalid_request'
  | 'openklant_not_found'
  | 'openklant_rate_limited'
  | 'openklant_server_error'
  | 'openklant_bad_response';

/** A failed call. `retryable` false: the same request will fail again (400) or may already have been carried out. */
export class OpenKlantError extends Error {
  constructor(
    readonly code: OpenKlantErrorCode,
    readonly retryable: boolean,
    readonly status?: number,
    /** From a 400's `invalidParams`: field names and codes only (never the `reason` text, which may quote a value). */
    readonly invalidParams: { name: string; code: string }[] = [],
  ) {
    super(code);
    this.name = 'OpenKlantError';
  }
}

/** What one POST /maak-klantcontact registers. */
export interface NewKlantcontact {
  kanaal: string;
  onderwerp: string;
  /** ISO 639-2/B, e.g. 'nld'. */
  taal: string;
  vertrouwelijk: boolean;
  indicatieContactGelukt: boolean;
  /** When the contact (or the attempt) took place, ISO 8601. */
  plaatsgevondenOp: string;
  inhoud?: string;
  /** The partij found by BSN, or the name the resident gave. */
  betrokkene: { partijUuid: string } | { contactnaam: { voornaam?: string; achternaam: string } };
  /** The appointment's id: registered as the onderwerpobject (APPOINTMENT_REFERENCE), found again by it. */
  appointmentId: string;
}

export interface OpenKlantClient {
  /** The uuid of the partij (natuurlijk persoon) with this BSN, or undefined when Open Klant has none. */
  findPartijByBsn(bsn: string, span: SpanContext): Promise<string | undefined>;
  /** The uuid of the agent's actor, or undefined when Open Klant has none for this username. */
  findActor(username: string, span: SpanContext): Promise<string | undefined>;
  maakKlantcontact(k: NewKlantcontact, span: SpanContext): Promise<{ klantcontactUuid: string; betrokkeneUuid?: string }>;
  /**
   * The uuid of the klantcontact registered earlier for this appointment (GET /klantcontacten filtered on the
   * onderwerpobject, APPOINTMENT_REFERENCE), or undefined: asked before a maak-klantcontact is tried again.
   */
  findKlantcontact(appointmentId: string, span: SpanContext): Promise<string | undefined>;
  /** Links the actor to the klantcontact (POST /actorklantcontacten); maak-klantcontact has no field for it. */
  linkActor(actorUuid: string, klantcontactUuid: string, span: SpanContext): Promise<void>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CODE = /^[A-Za-z0-9_.[\]-]{1,80}$/;
const MAX_BODY = 1_000_000;

function statusError(status: number, invalidParams: { name: string; code: string }[] = []): OpenKlantError {
  if (status === 400) return new OpenKlantError('openklant_invalid_request', false, status, invalidParams);
  if (status === 401 || status === 403) return new OpenKlantError('openklant_unauthorized', true, status);
  if (status === 404) return new OpenKlantError('openklant_not_found', true, status);
  if (status === 429) return new OpenKlantError('openklant_rate_limited', true, status);
  if (status >= 500) return new OpenKlantError('openklant_server_error', true, status);
  return new OpenKlantError('openklant_bad_response', true, status);
}

function paramsOf(body: unknown): { name: string; code: string }[] {
  const list = (body as { invalidParams?: unknown })?.invalidParams;
  if (!Array.isArray(list)) return [];
  return list
    .slice(0, 20)
    .map((p: { name?: unknown; code?: unknown }) => ({ name: String(p?.name ?? ''), code: String(p?.code ?? '') }))
    .filter((p) => CODE.test(p.name) && CODE.test(p.code));
}

/** Creates a client. `fetchImpl` is for tests that need to see the requests; the default is Node's fetch. */
export function createOpenKlantClient(config: OpenKlantConfig, fetchImpl: typeof fetch = fetch): OpenKlantClient {
  const problem = baseUrlProblem(config.baseUrl);
  if (problem) throw new Error(problem);
  if (typeof config.token !== 'string' || config.token.trim() === '') throw new Error('token: the API token is required');
  const root = config.baseUrl.trim().replace(/\/+$/, '');
  const timeoutMs = config.timeoutMs ?? 10_000;

  async function call(method: 'GET' | 'POST', path: string, span: SpanContext, body?: unknown, mayHaveHappened = false): Promise<unknown> {
    let res: Response;
    try {
      res = await fetchImpl(`${root}${path}`, {
        method,
        headers: {
          Authorization: `Token ${config.token}`,
          Accept: 'application/json',
          traceparent: traceparent(span),
          ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        redirect: 'error',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      const timeout = (e as Error)?.name === 'TimeoutError' || (e as Error)?.name === 'AbortError';
      // A POST that timed out may have been carried out; the API offers no idempotency key: the registrar looks the
      // contact up by its appointment reference (findKlantcontact) before it tries again.
      return Promise.reject(new OpenKlantError(timeout ? 'openklant_timeout' : 'openklant_unreachable', true));
    }
    const text = await res.text().catch(() => '');
    let parsed: unknown;
    try {
      parsed = text && text.length <= MAX_BODY ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!res.ok) throw statusError(res.status, res.status === 400 ? paramsOf(parsed) : []);
    if (parsed === undefined) throw new OpenKlantError('openklant_bad_response', !mayHaveHappened, res.status);
    return parsed;
  }

  const firstUuid = (list: unknown): string | undefined => {
    const results = (list as { results?: unknown })?.results;
    if (!Array.isArray(results)) throw new OpenKlantError('openklant_bad_response', true);
    const uuid = (results[0] as { uuid?: unknown } | undefined)?.uuid;
    if (results.length === 0) return undefined;
    if (typeof uuid !== 'string' || !UUID.test(uuid)) throw new OpenKlantError('openklant_bad_response', true);
    return uuid;
  };

  return {
    async findPartijByBsn(bsn, span) {
      if (!/^\d{9}$/.test(bsn)) throw new Error('a BSN has 9 digits');
      const q = new URLSearchParams({
        partijIdentificator__codeObjecttype: 'natuurlijk_persoon',
        partijIdentificator__codeRegister: 'brp',
        partijIdentificator__codeSoortObjectId: 'bsn',
        partijIdentificator__objectId: bsn,
        soortPartij: 'persoon',
        pageSize: '2',
      });
      return firstUuid(await call('GET', `/partijen?${q}`, span));
    },
    async findActor(username, span) {
      const id = DEFAULT_ACTOR_IDENTIFICATION;
      const q = new URLSearchParams({
        actoridentificatorCodeObjecttype: id.codeObjecttype,
        actoridentificatorCodeRegister: id.codeRegister,
        actoridentificatorCodeSoortObjectId: id.codeSoortObjectId,
        actoridentificatorObjectId: username,
        indicatieActief: 'true',
        pageSize: '2',
      });
      return firstUuid(await call('GET', `/actoren?${q}`, span));
    },
    async maakKlantcontact(k, span) {
      const betrokkene =
        'partijUuid' in k.betrokkene
          ? { wasPartij: { uuid: k.betrokkene.partijUuid }, rol: 'klant', initiator: true }
          : { contactnaam: k.betrokkene.contactnaam, rol: 'klant', initiator: true };
      const body = {
        klantcontact: {
          kanaal: k.kanaal,
          onderwerp: k.onderwerp,
          ...(k.inhoud ? { inhoud: k.inhoud } : {}),
          taal: k.taal,
          vertrouwelijk: k.vertrouwelijk,
          indicatieContactGelukt: k.indicatieContactGelukt,
          plaatsgevondenOp: k.plaatsgevondenOp,
        },
        betrokkene,
        onderwerpobject: { onderwerpobjectidentificator: { ...APPOINTMENT_REFERENCE, objectId: k.appointmentId } },
      };
      const r = (await call('POST', '/maak-klantcontact', span, body, true)) as { klantcontact?: { uuid?: unknown }; betrokkene?: { uuid?: unknown } };
      const uuid = r?.klantcontact?.uuid;
      // The contact was registered (2xx) but the answer is unusable: retrying would register it twice.
      if (typeof uuid !== 'string' || !UUID.test(uuid)) throw new OpenKlantError('openklant_bad_response', false);
      const b = r.betrokkene?.uuid;
      return { klantcontactUuid: uuid, ...(typeof b === 'string' && UUID.test(b) ? { betrokkeneUuid: b } : {}) };
    },
    async findKlantcontact(appointmentId, span) {
      const key = 'onderwerpobject__onderwerpobjectidentificator';
      const q = new URLSearchParams({
        [`${key}CodeObjecttype`]: APPOINTMENT_REFERENCE.codeObjecttype,
        [`${key}CodeRegister`]: APPOINTMENT_REFERENCE.codeRegister,
        [`${key}CodeSoortObjectId`]: APPOINTMENT_REFERENCE.codeSoortObjectId,
        [`${key}ObjectId`]: appointmentId,
        pageSize: '2',
      });
      return firstUuid(await call('GET', `/klantcontacten?${q}`, span));
    },
    async linkActor(actorUuid, klantcontactUuid, span) {
      await call('POST', '/actorklantcontacten', span, { actor: { uuid: actorUuid }, klantcontact: { uuid: klantcontactUuid } }, true);
    },
  };
}

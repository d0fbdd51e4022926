import { isValidBsn } from '../auth/bsn';
import { appointmentStoreOf } from '../call/deps';
import { identificationServiceOf, wipeCopy } from '../identification/service';
import { instanceIdOf } from '../runtime/instance';
import type { Services } from '../services';
import { faultCode } from '../store/faults';
import { createOpenKlantClient, type OpenKlantClient } from './client';
import type { OpenKlantSettings } from './config';
import { ContactRegistrar, type RegistrarOptions } from './registrar';

/** The attribute key that holds the BSN in a verified set (lib/auth/claims.ts mappings). */
export const BSN_KEY = 'bsn';

/**
 * The BSN of an appointment's resident while a verified set with it lives in the attribute cache, else undefined.
 * The copy the cache hands out is wiped before returning; only the string leaves, to the caller's partij search.
 */
export function bsnFromCache(services: Services, appointmentId: string): string | undefined {
  const identification = identificationServiceOf(services);
  for (const id of identification.cache.idsForAppointment(appointmentId)) {
    const set = identification.cache.get(id);
    if (!set) continue;
    const value = set.attributes.find((a) => a.key === BSN_KEY)?.value;
    wipeCopy(set);
    if (isValidBsn(value)) return value;
  }
  return undefined;
}

export interface StartOptions {
  /** The idv-openklant config node id. */
  source: string;
  settings: OpenKlantSettings;
  token: string;
  /** Tests: shorter back-off, polling and a client that sees the requests. */
  registrar?: Partial<Pick<RegistrarOptions, 'backoff' | 'pollMs' | 'leaseMs' | 'now'>>;
  client?: OpenKlantClient;
}

/**
 * Starts the contact registrar of one idv-openklant config node: the store of migration 011, the client, the partij
 * lookup when a resident's BSN is verified, a 'contact_registered' record in the processing log for each outcome
 * (Logboek: trace and span of the registration, status, start and end, processing activity) and health. Returns the
 * registrar and its stop function (the config node's close).
 */
export function startContactRegistrar(services: Services, o: StartOptions): { registrar: ContactRegistrar; stop: () => Promise<void> } {
  const identification = identificationServiceOf(services);
  const store = services.store.contactRegistrations;
  const client = o.client ?? createOpenKlantClient({ baseUrl: o.settings.baseUrl, token: o.token, timeoutMs: o.settings.timeoutSeconds * 1000 });
  const registrar = new ContactRegistrar({
    store,
    client,
    appointments: appointmentStoreOf(services),
    bsnFor: (appointmentId) => bsnFromCache(services, appointmentId),
    source: o.source,
    instanceId: instanceIdOf(services),
    log: services.log,
    ...o.registrar,
  });
  const onVerified = (e: { attributeSetId: string; appointmentId: string; attributeKeys: string[] }): void => {
    // In the verification's trace: the search is a processing that follows from it.
    const trace = identification.traceOfSet(e.attributeSetId);
    if (e.attributeKeys.includes(BSN_KEY)) {
      void registrar.resolvePartij(e.appointmentId, trace ? { traceId: trace.traceId, parentSpanId: trace.spanId, ...(trace.dataSubjectId ? { dataSubjectId: trace.dataSubjectId } : {}) } : undefined);
    }
  };
  identification.on('verified', onVerified);
  const activity = o.settings.processingActivityId;
  const logOutcome = (e: { appointmentId: string; traceId: string; spanId: string; startedAt: string; dataSubjectId?: string }, ok: boolean, detail?: string): void => {
    identification.log
      .record({
        appointmentId: e.appointmentId,
        actor: 'system',
        action: 'contact_registered',
        at: e.startedAt,
        endedAt: new Date().toISOString(),
        traceId: e.traceId,
        spanId: e.spanId,
        statusCode: ok ? 1 : 2,
        ...(detail ? { detail } : {}),
        ...(e.dataSubjectId ? { dataSubjectId: e.dataSubjectId } : {}),
        ...(activity ? { processingActivityId: activity } : {}),
      })
      .catch((err: unknown) => services.log.warn(`processing log write failed (contact_registered): ${faultCode(err)}`));
  };
  registrar.on('registered', (e) => logOutcome(e, true, e.codes[0]));
  registrar.on('partijLookup', (e) => {
    identification.log
      .record({
        appointmentId: e.appointmentId,
        actor: 'system',
        action: 'partij_looked_up',
        at: e.startedAt,
        endedAt: new Date().toISOString(),
        traceId: e.span.traceId,
        spanId: e.span.spanId,
        ...(e.parentSpanId ? { parentSpanId: e.parentSpanId } : {}),
        attributeKeys: [BSN_KEY],
        ...(e.dataSubjectId ? { dataSubjectId: e.dataSubjectId } : {}),
        statusCode: e.outcome === 'found' || e.outcome === 'not_found' ? 1 : 2,
        detail: e.outcome,
        ...(activity ? { processingActivityId: activity } : {}),
      })
      .catch((err: unknown) => services.log.warn(`processing log write failed (partij_looked_up): ${faultCode(err)}`));
  });
  registrar.on('failed', (e) => {
    if (e.final) logOutcome(e, false, e.errorCode);
  });
  services.registerHealth(`openklant:${o.source}`, async () => {
    try {
      const c = await registrar.counts();
      return { ok: true, detail: `${c.pending} waiting, ${c.retrying} retrying, ${c.failed} failed` };
    } catch (e) {
      return { ok: false, detail: `cannot read (${faultCode(e)})` };
    }
  });
  registrar.start();
  return {
    registrar,
    stop: async () => {
      identification.off('verified', onVerified);
      // Health checks cannot be removed: a removed Open Klant stops reporting its queue instead.
      services.registerHealth(`openklant:${o.source}`, () => ({ ok: true, detail: 'not in the flows any more' }));
      await registrar.stop();
      registrar.removeAllListeners();
    },
  };
}

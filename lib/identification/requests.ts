import { UserError } from '../errors';
import { looksLikeToken, newToken } from '../security/tokens';
import type { OfferedMethod } from './types';

/** An agent's open question "please identify yourself" for one appointment. Names and ids only, never values. */
export interface AuthRequest {
  requestId: string;
  appointmentId: string;
  agent: string;
  purpose: string;
  /** Method ids the resident may choose from, in the order shown. */
  methodIds: string[];
  /** Attribute keys asked for; the stored set keeps only these. */
  attributeKeys: string[];
  /** The methods offered (in memory only; credentials never leave the process). */
  methods: readonly OfferedMethod[];
  createdAt: number;
  /** The identification's trace and the request's span (W3C Trace Context, Logboek Dataverwerkingen). */
  traceId?: string;
  spanId?: string;
}

export interface RequestRegistryOptions {
  /** How long the resident has to finish (10 minutes, the same as the OIDC state). */
  ttlMs?: number;
  maxRequests?: number;
  now?: () => number;
}

/**
 * Open requests in memory. One open request per appointment: asking again replaces the earlier one, so the resident
 * never sees two pop-ups and an old request cannot be finished after a newer one was made.
 */
export class RequestRegistry {
  private readonly byId = new Map<string, AuthRequest>();
  private readonly ttlMs: number;
  private readonly max: number;
  private readonly now: () => number;

  constructor(o: RequestRegistryOptions = {}) {
    this.ttlMs = o.ttlMs ?? 10 * 60_000;
    this.max = o.maxRequests ?? 5000;
    this.now = o.now ?? Date.now;
  }

  create(input: Omit<AuthRequest, 'requestId' | 'createdAt'>): AuthRequest {
    this.sweep();
    for (const r of this.byId.values()) if (r.appointmentId === input.appointmentId) this.byId.delete(r.requestId);
    if (this.byId.size >= this.max) throw new UserError(503, 'too_many_auth_requests', 'Too many identifications are in progress; try again in a few minutes');
    const request: AuthRequest = { ...input, methodIds: [...input.methodIds], attributeKeys: [...input.attributeKeys], requestId: newToken(), createdAt: this.now() };
    this.byId.set(request.requestId, request);
    return request;
  }

  /** The open request, or undefined when unknown, replaced or older than the TTL. */
  get(requestId: unknown): AuthRequest | undefined {
    if (!looksLikeToken(requestId)) return undefined;
    const r = this.byId.get(requestId);
    if (!r) return undefined;
    if (this.now() - r.createdAt > this.ttlMs) {
      this.byId.delete(requestId);
      return undefined;
    }
    return r;
  }

  /** The open request of an appointment (the pop-up to show again after the resident reloads or reconnects). */
  forAppointment(appointmentId: string): AuthRequest | undefined {
    for (const r of this.byId.values()) if (r.appointmentId === appointmentId) return this.get(r.requestId);
    return undefined;
  }

  /** Removes and returns it: a request is finished once, whatever the outcome. */
  take(requestId: unknown): AuthRequest | undefined {
    const r = this.get(requestId);
    if (r) this.byId.delete(r.requestId);
    return r;
  }

  removeForAppointment(appointmentId: string): void {
    for (const r of this.byId.values()) if (r.appointmentId === appointmentId) this.byId.delete(r.requestId);
  }

  size(): number {
    this.sweep();
    return this.byId.size;
  }

  private sweep(): void {
    const t = this.now();
    for (const [id, r] of this.byId) if (t - r.createdAt > this.ttlMs) this.byId.delete(id);
  }
}

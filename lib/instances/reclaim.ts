import { mailServiceOf } from '../mail-service';
import type { Services } from '../services';

/** What the leases of a gone instance held: counts of rows made due at once, per kind of job. */
export interface ReclaimedJobs {
  handoffs: number;
  mails: number;
  sms: number;
  registrations: number;
}

/**
 * Ends the leases another instance held on jobs, because that instance is gone (issue 12: "nothing lost when a
 * machine dies"): hand-offs of booked/cancelled appointments (lease 2 min), mails and SMS being sent (lease 10 min),
 * Open Klant registrations. Each store's `reclaimInstance` sets the lease end to now for rows that instance claimed,
 * so the next claim on any live instance takes them; this instance's mail worker is woken at once (started if it was not running) (the hand-off sweep
 * runs every few seconds anyway, the SMS worker within its poll).
 *
 * Safe to run twice or on several survivors (a row whose lease already ended is left alone). If the instance was in
 * fact alive (stalled for longer than two room leases), a mail it was sending may go out twice with the same
 * Message-ID: the outbox's at-least-once rule, which a crash between SMTP's 250 and the commit already has.
 */
export async function reclaimJobsOf(services: Services, instanceId: string, now: Date = new Date()): Promise<ReclaimedJobs> {
  const at = now.toISOString();
  const s = services.store;
  const [handoffs, mails, sms, registrations] = await Promise.all([
    s.events.reclaimInstance(instanceId, at),
    s.outbox.reclaimInstance(instanceId, at),
    s.smsOutbox.reclaimInstance(instanceId, at),
    s.contactRegistrations.reclaimInstance(instanceId, at),
  ]);
  // The worker may be asleep until the old lease's end; the mail service starts one if this instance had none.
  if (mails > 0) void mailServiceOf(services).outbox.kick();
  const total = handoffs + mails + sms + registrations;
  if (total > 0) {
    services.log.warn(`instance ${instanceId} is gone: resuming its ${handoffs} hand-off(s), ${mails} mail(s), ${sms} SMS and ${registrations} registration(s) here`);
  }
  return { handoffs, mails, sms, registrations };
}

import type { RegisteredEvent, RegistrationFailedEvent } from '../../lib/openklant/registrar';
import { OUTCOME_CODES } from '../../lib/outcomes/types';
import { configNode, type OpenKlantNode } from '../common/config-nodes';
import type { DoneFn, Node, NodeAPI, NodeDef, NodeMessage, SendFn } from '../common/node-red';
import { currentSettings } from '../common/settings';

const APPOINTMENT_RE = /^[A-Za-z0-9_-]{1,100}$/;
/** The outcomes idv-agent-dashboard sends (`msg.event: "outcome"`). */
const OUTCOMES = new Set<string>(OUTCOME_CODES);

/**
 * Registers each appointment's contact in Open Klant: a `callEnded` message of idv-agent-dashboard (contact made), its
 * `outcome` message (a no-show of either side: contact not made; cancelled: nothing), or a message with
 * `msg.contactMade` true or false. An appointment is registered once, whichever message comes first. The registration is queued durably by the idv-openklant config
 * node; output 1 tells when it is registered, output 2 when an attempt failed (codes only). Messages carry ids and
 * codes: never the BSN, a name or an address.
 */
export = function register(RED: NodeAPI): void {
  function IdvRegisterContact(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const d = currentSettings(this, def);
    let detach: (() => void) | undefined;
    let ok = false;
    try {
      const cfg = configNode<OpenKlantNode>(RED, d.openklant, 'idv-openklant');
      if (!cfg.registrar) throw new Error(`the Open Klant configuration "${cfg.name || cfg.id}" is invalid: ${cfg.problems.join('; ')}`);
      const registrar = cfg.registrar;
      // Every outcome of this Open Klant's queue is reported, also of registrations queued before a restart; flows
      // de-duplicate on msg.eventId (the registration id) when several nodes share one idv-openklant.
      const onRegistered = (e: RegisteredEvent): void => {
        this.send([{ topic: 'contactRegistered', eventId: e.registrationId, appointment: { id: e.appointmentId }, klantcontact: { uuid: e.klantcontactUuid }, contactMade: e.contactMade, codes: e.codes, traceId: e.traceId }, null]);
        this.status({ fill: 'green', shape: 'dot', text: 'idv-register-contact.status.registered' });
      };
      const onFailed = (e: RegistrationFailedEvent): void => {
        this.send([null, {
          topic: 'contactRegistrationFailed',
          eventId: e.registrationId,
          appointment: { id: e.appointmentId },
          code: e.errorCode,
          final: e.final,
          attempt: e.attempt,
          ...(e.nextAttemptAt ? { nextAttemptAt: e.nextAttemptAt } : {}),
          ...(e.invalidParams ? { invalidParams: e.invalidParams } : {}),
          traceId: e.traceId,
        }]);
        this.status({ fill: e.final ? 'red' : 'yellow', shape: 'ring', text: e.final ? 'idv-register-contact.status.failed' : 'idv-register-contact.status.retrying' });
      };
      registrar.on('registered', onRegistered);
      registrar.on('failed', onFailed);
      detach = () => {
        registrar.off('registered', onRegistered);
        registrar.off('failed', onFailed);
      };
      ok = true;
      this.status({ fill: 'green', shape: 'ring', text: 'idv-register-contact.status.ready' });

      this.on('input', (msg: NodeMessage, _send: SendFn, done: DoneFn) => {
        const m = msg as NodeMessage & { appointment?: { id?: unknown }; contactMade?: unknown; event?: unknown; outcome?: unknown };
        const id = m.appointment?.id;
        if (typeof id !== 'string' || !APPOINTMENT_RE.test(id)) return done(new Error('msg.appointment.id is missing or malformed'));
        if (m.contactMade !== undefined && typeof m.contactMade !== 'boolean') return done(new Error('msg.contactMade must be true or false'));
        let fromEvent: boolean | undefined;
        if (m.event === 'callEnded') fromEvent = true;
        else if (m.event === 'outcome') {
          // idv-agent-dashboard's outcome of an appointment (lib/outcomes): a no-show of either side is a contact that
          // did not take place; a cancelled appointment is no contact at all, so nothing is registered.
          if (!OUTCOMES.has(String(m.outcome))) return done(new Error('msg.outcome is not an appointment outcome'));
          if (m.outcome === 'cancelled') return done();
          fromEvent = m.outcome === 'completed';
        }
        const contactMade = typeof m.contactMade === 'boolean' ? m.contactMade : fromEvent;
        if (contactMade === undefined) return done(new Error("msg.contactMade is required unless msg.event is 'callEnded' or 'outcome'"));
        registrar
          .add(id, contactMade)
          .then(() => done())
          .catch((e: unknown) => {
            const fk = /FOREIGN KEY/i.test((e as Error)?.message ?? '');
            done(new Error(fk ? `appointment ${id} does not exist` : 'the registration could not be stored (store unavailable)'));
          });
      });
    } catch (e) {
      this.error(`idv-register-contact: ${(e as Error).message}`);
      this.status({ fill: 'red', shape: 'ring', text: 'idv-register-contact.status.invalid' });
    }
    if (!ok) this.on('input', (_m: NodeMessage, _s: SendFn, done: DoneFn) => done(new Error('idv-register-contact is not configured')));
    this.on('close', (_removed: boolean, done: () => void) => {
      detach?.();
      this.status({});
      done();
    });
  }
  RED.nodes.registerType('idv-register-contact', IdvRegisterContact);
};

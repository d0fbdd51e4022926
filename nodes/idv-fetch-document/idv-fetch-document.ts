import { publicBase } from '../../lib/access/public-base';
import { runningCallService } from '../../lib/call/service';
import { FETCH_PATH } from '../../lib/documents/fetch-route';
import { isUserError } from '../../lib/errors';
import { getServices } from '../../lib/services';
import { settingsOf } from '../common/config-nodes';
import type { Node, NodeAPI, NodeDef, NodeMessage } from '../common/node-red';

/**
 * Gives a flow a document the resident shared (msg.documentId from idv-agent-dashboard's documentShared) as a
 * one-time download link, never as bytes in a message: msg.document = {id, kind, size, url, expiresAt}. The link works
 * once, for two minutes at most and never after the document is gone; a flow's HTTP request node (a case system's
 * connector) downloads it. Done with an error when the document no longer exists.
 */
export = function register(RED: NodeAPI): void {
  function IdvFetchDocument(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const services = getServices(RED);
    let base = services.config.publicUrl;
    try {
      base = publicBase(services.config, settingsOf(RED, def.settings)?.publicUrl);
    } catch (e) {
      this.error(`idv-fetch-document: ${(e as Error).message}`);
    }
    this.status({ fill: 'green', shape: 'dot', text: 'idv-fetch-document.status.ready' });
    this.on('input', (msg: NodeMessage, send, done) => {
      const call = runningCallService(services);
      if (!call) {
        done(new Error('the call service is not running (no idv-agent-dashboard node deployed)'));
        return;
      }
      try {
        const f = call.documents.issueFetch(msg.documentId);
        // The appointment in the query lets any instance send the fetch to the one whose memory holds the document.
        const url = `${base}${FETCH_PATH}/${f.token}?appointment=${encodeURIComponent(f.appointmentId)}`;
        send({ ...msg, document: { id: msg.documentId, kind: f.kind, size: f.size, url, expiresAt: f.expiresAt } });
        this.status({ fill: 'green', shape: 'dot', text: 'idv-fetch-document.status.issued' });
        done();
      } catch (e) {
        this.status({ fill: 'yellow', shape: 'ring', text: 'idv-fetch-document.status.gone' });
        done(new Error(isUserError(e) ? e.message : 'the fetch link could not be made'));
      }
    });
    this.on('close', (_removed: boolean, done: () => void) => {
      this.status({});
      done();
    });
  }
  RED.nodes.registerType('idv-fetch-document', IdvFetchDocument);
};

import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';

/**
 * A real SMTP server on loopback for tests, with failure modes:
 * - accept: takes every mail
 * - refuse-auth: every AUTH fails with 535
 * - reject-recipient: RCPT TO answered with 550
 * - temp-fail: RCPT TO answered with 451
 * - silent: accepts TCP connections and never says a word (greeting timeout)
 * The mode can change while running. down() and up() take the server away and bring it back on the same port; the
 * port stays bound meanwhile (connections are reset at once), so no other process can take it and a restart never
 * fails with EADDRINUSE. stop() ends it for good.
 * `hold` (any mode): the server reads each message but answers its DATA only on releaseHeld(); a message whose
 * client disconnected meanwhile is dropped, as a real server drops a transaction that never completed. So a test can
 * stop a sender while a mail is in flight and not yet accepted.
 */
export type SmtpMode = 'accept' | 'refuse-auth' | 'reject-recipient' | 'temp-fail' | 'silent';

export interface ReceivedMail {
  envelope: { from: string; to: string[] };
  raw: Buffer;
  parsed: ParsedMail;
  /** The user who authenticated, if any. */
  user?: string;
}

export interface TestSmtpOptions {
  mode?: SmtpMode;
  /** When set, AUTH is required and must match. */
  auth?: { user: string; pass: string };
  /** TLS from the start with smtp-server's built-in self-signed certificate (clients that verify will refuse). */
  secure?: boolean;
  /** Recipients to refuse with 550 even in 'accept' mode. */
  rejectRecipients?: string[];
}

export class TestSmtpServer {
  mode: SmtpMode;
  readonly received: ReceivedMail[] = [];
  /** Counts of SMTP transactions that reached DATA (accepted or not): catches duplicate sends. */
  dataCommands = 0;
  connections = 0;
  port = 0;
  /** While true, DATA is not answered until releaseHeld(). */
  hold = false;
  private readonly held: { sessionId: string; finish: () => void }[] = [];
  private readonly closedSessions = new Set<string>();
  private smtp: SMTPServer | undefined;
  /** The one listener for the server's life; connections go to smtp-server, nowhere (silent) or are reset (down). */
  private listener: Server | undefined;
  private away = false;
  private readonly sockets = new Set<Socket>();
  private readonly waiters: (() => void)[] = [];

  constructor(private readonly options: TestSmtpOptions = {}) {
    this.mode = options.mode ?? 'accept';
  }

  get url(): string {
    const auth = this.options.auth ? `${encodeURIComponent(this.options.auth.user)}:${encodeURIComponent(this.options.auth.pass)}@` : '';
    return `${this.options.secure ? 'smtps' : 'smtp'}://${auth}127.0.0.1:${this.port}`;
  }

  /** Starts listening on an ephemeral port on 127.0.0.1. */
  async start(): Promise<this> {
    if (this.listener) throw new Error('the test SMTP server is already started (down()/up() take it away and back)');
    this.smtp = this.createSmtp();
    const listener = createServer((socket) => this.dispatch(socket));
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(0, '127.0.0.1', () => {
        listener.off('error', reject);
        resolve();
      });
    });
    this.listener = listener;
    this.port = (listener.address() as AddressInfo).port;
    return this;
  }

  /** The server goes away: open connections drop, new ones are reset at once (the port stays this server's). */
  down(): void {
    this.away = true;
    for (const s of this.sockets) s.destroy();
  }

  /** Back after down(), on the same port. */
  up(): void {
    this.away = false;
  }

  /**
   * Changes the mode. Open connections are dropped, as a reconfigured server does, so a client's pooled connection
   * cannot carry on under the old rules.
   */
  async setMode(mode: SmtpMode): Promise<void> {
    this.mode = mode;
    for (const s of this.sockets) s.destroy();
  }

  get listening(): boolean {
    return this.listener !== undefined && !this.away;
  }

  /** Resolves when `count` mails have been received in total. */
  waitFor(count: number, timeoutMs = 5000): Promise<void> {
    if (this.received.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${this.received.length} of ${count} mails arrived`)), timeoutMs);
      const check = () => {
        if (this.received.length >= count) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      check();
    });
  }

  /** Messages read but not yet answered (hold). */
  get heldCount(): number {
    return this.held.length;
  }

  /** True when the client of every held message has disconnected (so releasing them accepts none). */
  heldSessionsClosed(): boolean {
    return this.held.every((h) => this.closedSessions.has(h.sessionId));
  }

  /** Answers the held messages; those whose client is gone are dropped, never counted as received. */
  releaseHeld(): void {
    for (const h of this.held.splice(0)) h.finish();
  }

  /** Ends the server for good: connections dropped, port released. */
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const listener = this.listener;
    const smtp = this.smtp;
    this.listener = undefined;
    this.smtp = undefined;
    if (listener) await new Promise<void>((resolve) => listener.close(() => resolve()));
    // smtp-server never listened itself (it only got sockets): this ends its sessions and timers.
    if (smtp) await new Promise<void>((resolve) => smtp.close(() => resolve()));
  }

  private dispatch(socket: Socket): void {
    socket.on('error', () => undefined);
    if (this.away) {
      socket.resetAndDestroy();
      return;
    }
    this.connections++;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    if (this.mode === 'silent') return;
    this.smtp?.server.emit('connection', socket);
  }

  private createSmtp(): SMTPServer {
    const auth = this.options.auth;
    const options: SMTPServerOptions = {
      secure: this.options.secure === true,
      authOptional: !auth,
      allowInsecureAuth: true,
      disabledCommands: this.options.secure ? [] : ['STARTTLS'],
      logger: false,
      closeTimeout: 100,
      onConnect: (session, callback) => callback(),
      onClose: (session) => {
        this.closedSessions.add(session.id);
      },
      onAuth: (a, _session, callback) => {
        if (this.mode === 'refuse-auth' || !auth || a.username !== auth.user || a.password !== auth.pass) {
          callback(Object.assign(new Error('Authentication failed'), { responseCode: 535 }));
          return;
        }
        callback(null, { user: a.username });
      },
      onRcptTo: (address, _session, callback) => {
        if (this.mode === 'temp-fail') {
          callback(Object.assign(new Error('Try again later'), { responseCode: 451 }));
        } else if (this.mode === 'reject-recipient' || (this.options.rejectRecipients ?? []).includes(address.address)) {
          callback(Object.assign(new Error('Mailbox unavailable'), { responseCode: 550 }));
        } else callback();
      },
      onData: (stream, session, callback) => {
        this.dataCommands++;
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks);
          if (this.hold) {
            this.held.push({
              sessionId: session.id,
              finish: () => {
                if (this.closedSessions.has(session.id)) return;
                this.accept(raw, session, callback);
              },
            });
            return;
          }
          this.accept(raw, session, callback);
        });
      },
    };
    const smtp = new SMTPServer(options);
    smtp.on('error', () => undefined);
    return smtp;
  }

  private accept(raw: Buffer, session: SMTPServerSession, callback: (err?: Error | null) => void): void {
    // The envelope is copied now: smtp-server resets the session for the next transaction on the connection.
    const envelope = {
      from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
      to: session.envelope.rcptTo.map((r) => r.address),
    };
    simpleParser(raw)
      .then((parsed) => {
        this.received.push({ envelope, raw, parsed, ...(typeof session.user === 'string' ? { user: session.user } : {}) });
        callback();
        for (const w of this.waiters.splice(0)) w();
      })
      .catch((e: Error) => callback(e));
  }
}

export async function startTestSmtp(options: TestSmtpOptions = {}): Promise<TestSmtpServer> {
  return new TestSmtpServer(options).start();
}

/** What the outbox keeps of a send failure: a code, never the server's text (it may quote the recipient). */
export interface SendFailure {
  /** Nodemailer/Node error code, e.g. ETIMEDOUT, ECONNECTION, ESOCKET, EAUTH, EENVELOPE, or ECERT (certificate refused). */
  code: string;
  /** SMTP reply code when the server answered, e.g. 451, 535, 550. */
  responseCode?: number;
  /** True when retrying cannot help (recipient or message refused with a 5xx). */
  permanent: boolean;
}

/** Classifies a transport error for the retry decision. */
export function classifySendError(error: unknown): SendFailure {
  const e = (error ?? {}) as { code?: unknown; responseCode?: unknown; message?: unknown };
  let code = typeof e.code === 'string' && /^[A-Z0-9_]{2,40}$/.test(e.code) ? e.code : 'EUNKNOWN';
  // Nodemailer reports a certificate that does not verify as a plain socket error; the administrator needs to know
  // it is the certificate (the message is Node's TLS text, which holds no personal data).
  if ((code === 'ESOCKET' || code === 'ETLS') && typeof e.message === 'string' && /certificate|self[- ]signed|unable to verify/i.test(e.message)) {
    code = 'ECERT';
  }
  const responseCode =
    typeof e.responseCode === 'number' && Number.isInteger(e.responseCode) && e.responseCode >= 200 && e.responseCode < 600
      ? e.responseCode
      : undefined;
  // A 5xx to MAIL FROM/RCPT TO/DATA means this message will never be accepted; an envelope error without a server
  // answer means nodemailer refused the address itself. Everything else (4xx, timeouts, connection, TLS, auth) is a
  // state of the server or its configuration that may change, so it is retried within the attempt budget.
  const permanent =
    ((code === 'EENVELOPE' || code === 'EMESSAGE') && responseCode !== undefined && responseCode >= 500) ||
    (code === 'EENVELOPE' && responseCode === undefined);
  return { code, ...(responseCode !== undefined ? { responseCode } : {}), permanent };
}

/** The stored/emitted form: "EENVELOPE:550", "ETIMEDOUT". */
export function failureCode(f: SendFailure): string {
  return f.responseCode !== undefined ? `${f.code}:${f.responseCode}` : f.code;
}

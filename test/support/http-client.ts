import * as http from 'node:http';

let nextLoopback = 1;

/**
 * Another loopback source address each call (127.0.1.1, 127.0.1.2, …): a client that connects from it counts as its
 * own network for the rate limits, as separate residents do, so tests do not share one budget by accident.
 */
export function ownLoopbackAddress(): string {
  const n = nextLoopback++;
  return `127.0.${1 + Math.floor(n / 250)}.${1 + (n % 250)}`;
}

/**
 * A tiny cookie-keeping HTTP client over fetch for tests against a running runtime: no redirects followed unless
 * asked, so tests can assert 303s and Set-Cookie headers. With `localAddress` (see ownLoopbackAddress) it connects
 * from that address, through node:http (fetch cannot choose its source address).
 */
export class Client {
  readonly cookies = new Map<string, string>();
  constructor(readonly base: string, readonly origin = base, readonly opts: { localAddress?: string } = {}) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private keep(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      if (/Max-Age=0/i.test(c) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async request(method: string, path: string, opts: { body?: string | Record<string, string>; json?: unknown; headers?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = { cookie: this.cookieHeader(), ...opts.headers };
    let body: string | undefined;
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      headers.accept = 'application/json';
      body = JSON.stringify(opts.json);
    } else if (opts.body !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = typeof opts.body === 'string' ? opts.body : new URLSearchParams(opts.body).toString();
    }
    if (method !== 'GET' && !headers.origin) headers.origin = this.origin;
    const res = this.opts.localAddress ? await this.fromAddress(this.opts.localAddress, method, path, headers, body) : await fetch(this.base + path, { method, headers, body, redirect: 'manual' });
    this.keep(res);
    return res;
  }

  private fromAddress(localAddress: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Response> {
    return new Promise((resolve, reject) => {
      const req = http.request(this.base + path, { method, headers, localAddress }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const h = new Headers();
          for (let i = 0; i < res.rawHeaders.length; i += 2) h.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
          const status = res.statusCode ?? 0;
          resolve(new Response([101, 204, 205, 304].includes(status) ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage, headers: h }));
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  get(path: string, headers?: Record<string, string>) {
    return this.request('GET', path, { headers });
  }

  post(path: string, body: Record<string, string>, headers?: Record<string, string>) {
    return this.request('POST', path, { body, headers });
  }

  /** The hidden CSRF field of the last form on a page. */
  static csrfFrom(html: string): string {
    const m = /name="_csrf" value="([^"]+)"/.exec(html);
    if (!m) throw new Error('no CSRF field on the page');
    return m[1];
  }

  /** Signs in through the real login form. */
  async signIn(username: string, password: string): Promise<Response> {
    const page = await (await this.get('/login')).text();
    return this.post('/login', { _csrf: Client.csrfFrom(page), username, password, next: '/agent' });
  }
}

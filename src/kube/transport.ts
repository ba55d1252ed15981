// HTTP to the API server over node:https (node:http for an http:// server): JSON requests on a
// keep-alive socket pool, and watches (newline-delimited JSON streams) on sockets of their own.
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions as HttpsOptions } from 'node:https';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { KubeConfig } from './config.ts';
import type { Credentials } from './credentials.ts';
import { KubeApiError, KubeRequestError } from './errors.ts';
import { LineSplitter, joinPath, queryString, type Query } from './wire.ts';

/** Concurrent requests per server (watches do not count: they have their own sockets). */
export const MAX_SOCKETS = 64;
/** A request with no byte for this long fails (the API server's own limit for a request is 60 s). */
export const REQUEST_IDLE_TIMEOUT_MS = 90_000;
/**
 * A watch with no byte for this long has lost its server. Never shorter than ~3 minutes: the
 * server sends a bookmark about every minute, so an idle but healthy watch must not time out.
 */
export const WATCH_IDLE_TIMEOUT_MS = 180_000;
/**
 * A request with no response headers for this long fails, whatever held it: a wait for a pooled
 * socket, the TCP connect, the TLS handshake, or the server (the idle timers start only later).
 */
export const RESPONSE_HEADERS_TIMEOUT_MS = 90_000;
/** Idle pooled sockets close after this (the API server closes its idle connections after 90 s). */
const FREE_SOCKET_TIMEOUT_MS = 60_000;

export interface RequestOptions {
  query?: Query;
  /** Sent as JSON. */
  body?: unknown;
  contentType?: string;
  /** Aborting it destroys the request and rejects with a KubeRequestError (the signal's reason is its cause). */
  signal?: AbortSignal;
}

export interface Response<T> {
  code: number;
  body: T;
}

export interface StreamHandle {
  abort(): void;
}

const timeoutError = (what: string, ms: number) =>
  Object.assign(new Error(`${what}: no data for ${ms / 1000} s`), { name: 'TimeoutError' });

export class Transport {
  private readonly agent: HttpAgent;
  private readonly watchAgent: HttpAgent;
  private readonly request: typeof httpRequest;
  private readonly server: URL;
  private readonly userAgent: string;

  /** `userAgent`: names this replica in the API server's audit log (who wrote what). */
  constructor(
    private readonly kc: KubeConfig,
    o: { maxSockets?: number; userAgent?: string } = {},
  ) {
    this.server = kc.server;
    this.userAgent = o.userAgent ?? 'gaffer';
    const https = this.server.protocol === 'https:';
    const Agent = https ? HttpsAgent : HttpAgent;
    const maxSockets = o.maxSockets ?? MAX_SOCKETS;
    // Every socket of a burst stays pooled (until idle for FREE_SOCKET_TIMEOUT_MS): with fewer free
    // slots than sockets, the extras closed after each burst and the next burst paid a TLS
    // handshake for each again (TLSSocket._start was the top cost in a 10,000-pod CPU profile).
    this.agent = new Agent({
      keepAlive: true,
      maxSockets,
      maxFreeSockets: maxSockets,
      timeout: FREE_SOCKET_TIMEOUT_MS,
    });
    this.watchAgent = new Agent({ keepAlive: true, maxFreeSockets: 4, timeout: FREE_SOCKET_TIMEOUT_MS });
    this.request = (https ? httpsRequest : httpRequest) as typeof httpRequest;
  }

  /** TLS contexts by client certificate (one for none): credentials objects come anew per request. */
  private readonly contexts = new WeakMap<object, SecureContext>();
  private readonly noClientCert = {};

  /** One TLS context per client certificate (an exec plugin may rotate it). */
  private secureContext(creds: Credentials): SecureContext {
    const k = creds.cert ?? this.noClientCert;
    let c = this.contexts.get(k);
    if (!c) {
      c = createSecureContext({ ca: this.kc.ca, cert: creds.cert, key: creds.key });
      this.contexts.set(k, c);
    }
    return c;
  }

  /** Node request options: the server, TLS (CA, client certificate) and headers. */
  private options(
    method: string,
    path: string,
    creds: Credentials,
    agent: HttpAgent,
    extra: Record<string, string>,
  ): HttpsOptions {
    const { kc } = this;
    return {
      protocol: this.server.protocol,
      hostname: this.server.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: this.server.port || undefined,
      method,
      path,
      agent,
      // ca/cert/key also key the agent's socket pool (new credentials, new sockets); the context
      // built from them once is what each new TLS socket uses (not re-parsed per connection).
      ca: kc.ca,
      cert: creds.cert,
      key: creds.key,
      ...(this.server.protocol === 'https:' ? { secureContext: this.secureContext(creds) } : {}),
      rejectUnauthorized: !kc.insecureSkipTlsVerify,
      servername: kc.tlsServerName,
      headers: {
        Accept: 'application/json',
        'User-Agent': this.userAgent,
        ...(creds.token ? { Authorization: `Bearer ${creds.token}` } : {}),
        ...extra,
      },
    };
  }

  private path(path: string, query?: Query): string {
    return joinPath(this.server.pathname, path) + queryString(query);
  }

  /** One request; resolves with a 2xx answer's JSON, rejects with KubeApiError or KubeRequestError. */
  async send<T>(method: string, path: string, o: RequestOptions = {}): Promise<Response<T>> {
    try {
      return await this.sendOnce<T>(method, path, o);
    } catch (e) {
      // A pooled keep-alive socket the server had closed just as it was reused: the request never
      // reached the server, so it goes once more on a fresh socket (as Go's transport does). Safe
      // for every verb here: updates carry a resourceVersion, deletes a uid, creates take
      // AlreadyExists as done, apply is idempotent.
      if (e instanceof KubeRequestError && e.reusedSocketClosed && !o.signal?.aborted)
        return this.sendOnce<T>(method, path, o);
      throw e;
    }
  }

  private async sendOnce<T>(method: string, path: string, o: RequestOptions): Promise<Response<T>> {
    const creds = await this.kc.credentials.get();
    const payload = o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body));
    const what = `${method} ${path}`;
    const headers: Record<string, string> = payload
      ? { 'Content-Type': o.contentType ?? 'application/json', 'Content-Length': String(payload.length) }
      : {};
    return new Promise((resolve, reject) => {
      if (o.signal?.aborted) return reject(abortedError(what, o.signal));
      const req = this.request(this.options(method, this.path(path, o.query), creds, this.agent, headers), (res) => {
        readBody(res).then(
          (text) => {
            const code = res.statusCode ?? 0;
            if (code === 401) this.kc.credentials.invalidate();
            if (code < 200 || code > 299) return reject(new KubeApiError(code, text, what));
            try {
              resolve({ code, body: (text ? JSON.parse(text) : undefined) as T });
            } catch (e) {
              reject(new KubeRequestError(`${what}: the answer is not JSON`, { cause: e }));
            }
          },
          (e: unknown) => reject(new KubeRequestError(`${what} failed`, { cause: e })),
        );
      });
      req.setTimeout(REQUEST_IDLE_TIMEOUT_MS, () => {
        reject(timeoutError(what, REQUEST_IDLE_TIMEOUT_MS));
        req.destroy();
      });
      headersDeadline(req, what);
      if (o.signal) abortWith(o.signal, req, () => reject(abortedError(what, o.signal!)));
      req.on('error', (e: NodeJS.ErrnoException) =>
        reject(
          new KubeRequestError(`${what} failed`, {
            cause: e,
            reusedSocketClosed: req.reusedSocket && (e.code === 'ECONNRESET' || e.code === 'EPIPE'),
          }),
        ),
      );
      req.end(payload);
    });
  }

  /**
   * A streaming GET (a watch): `onLine` gets each line of the answer; `onDone` is called once,
   * when the stream ends (no argument), fails (the error; KubeApiError for a non-2xx answer),
   * or is aborted (no argument).
   */
  async stream(
    path: string,
    query: Query,
    onLine: (line: string) => void,
    onDone: (err?: unknown) => void,
  ): Promise<StreamHandle> {
    const creds = await this.kc.credentials.get();
    const what = `watch ${path}`;
    let done = false;
    let aborted = false;
    const finish = (err?: unknown) => {
      if (done) return;
      done = true;
      onDone(aborted ? undefined : err);
    };
    const req = this.request(this.options('GET', this.path(path, query), creds, this.watchAgent, {}), (res) =>
      this.onStream(res, req, what, onLine, finish),
    );
    req.setTimeout(WATCH_IDLE_TIMEOUT_MS, () => {
      finish(timeoutError(what, WATCH_IDLE_TIMEOUT_MS));
      req.destroy();
    });
    headersDeadline(req, what);
    req.on('error', (e) => finish(new KubeRequestError(`${what} failed`, { cause: e })));
    req.end();
    return {
      abort: () => {
        aborted = true;
        req.destroy();
        finish();
      },
    };
  }

  private onStream(
    res: IncomingMessage,
    req: ClientRequest,
    what: string,
    onLine: (line: string) => void,
    finish: (err?: unknown) => void,
  ): void {
    const code = res.statusCode ?? 0;
    if (code < 200 || code > 299) {
      if (code === 401) this.kc.credentials.invalidate();
      readBody(res).then((text) => finish(new KubeApiError(code, text, what)), finish);
      return;
    }
    const lines = new LineSplitter();
    let failed = false;
    const deliver = (line: string) => {
      if (failed) return; // the rest of a chunk after a line that failed: the watch is over
      try {
        onLine(line);
      } catch (e) {
        failed = true;
        req.destroy();
        finish(e);
      }
    };
    res.on('data', (chunk: Buffer) => {
      for (const line of lines.push(chunk)) deliver(line);
    });
    res.on('end', () => {
      const last = lines.end();
      if (last) deliver(last);
      finish();
    });
    res.on('error', (e) => finish(new KubeRequestError(`${what} failed`, { cause: e })));
    res.on('close', () => finish(res.complete ? undefined : new KubeRequestError(`${what}: the stream closed early`)));
  }
}

const abortedError = (what: string, signal: AbortSignal) =>
  new KubeRequestError(`${what}: aborted`, { cause: signal.reason });

/**
 * Destroys the request when `signal` aborts (a caller's deadline: a hung request must free its
 * socket, not just be forgotten), after `onAbort` has settled the caller's promise.
 */
function abortWith(signal: AbortSignal, req: ClientRequest, onAbort: () => void): void {
  const abort = () => {
    onAbort();
    req.destroy();
  };
  signal.addEventListener('abort', abort, { once: true });
  req.once('close', () => signal.removeEventListener('abort', abort));
}

/** Fails the request (an 'error' event) if no response headers arrive in time; see RESPONSE_HEADERS_TIMEOUT_MS. */
function headersDeadline(req: ClientRequest, what: string): void {
  const t = setTimeout(
    () => req.destroy(timeoutError(`${what}: no response`, RESPONSE_HEADERS_TIMEOUT_MS)),
    RESPONSE_HEADERS_TIMEOUT_MS,
  );
  req.once('response', () => clearTimeout(t));
  req.once('close', () => clearTimeout(t));
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

// Fault tools for the tests, the benchmark and soak runs (README: hack/README.md "Fault proxies").
// LoopbackProxy: a loopback TCP proxy in front of the API server, to fail the network in chosen ways:
// cut every connection, reset a kept-alive connection when it is used again, or hold new
// connections (their requests wait unanswered) until released. TLS passes through untouched.
// FaultProxy, below it, works one level up: it sees each HTTP request, counts them by path, and
// refuses, holds or cuts chosen ones (a watch's ERROR event, an empty watch, a hung LIST).
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  Agent as HttpsAgent,
  createServer as createHttpsServer,
  request as httpsRequest,
  type Server as HttpsServer,
} from 'node:https';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { CLUSTER_DIR, KUBECONFIG } from './kubectl.ts';
import { connect as kubeConnect, type KubeConfig } from '../src/kube/config.ts';
import { resolveKubeconfig } from '../src/kube/kubeconfig.ts';

export class LoopbackProxy {
  port = 0;
  /** Connections reset by resetOnReuse(). */
  resets = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly open = new Set<Socket>();
  private hold = 0;
  private readonly held: (() => void)[] = [];

  constructor(private readonly targetPort: number) {}

  async start(): Promise<this> {
    this.server = createServer((client) => {
      this.track(client);
      this.open.add(client);
      client.on('close', () => this.open.delete(client));
      const forward = () => {
        const upstream = connect(this.targetPort, '127.0.0.1');
        this.track(upstream);
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
        client.pipe(upstream).pipe(client);
      };
      if (this.hold > 0) {
        this.hold--;
        client.pause();
        this.held.push(forward);
      } else forward();
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  private track(s: Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => {});
  }

  /** Ends every connection through the proxy at once, as a network failure would. */
  cut(): void {
    for (const s of this.sockets) s.destroy();
  }

  /**
   * The connections open now are reset (TCP RST) as soon as the client sends on them again: what a
   * client sees when it reuses a kept-alive socket that the server has just closed.
   */
  resetOnReuse(): void {
    for (const c of this.open) {
      c.unpipe();
      c.removeAllListeners('data');
      c.once('data', () => {
        this.resets++;
        c.resetAndDestroy();
      });
      c.resume(); // unpipe() paused it
    }
  }

  /** The next `n` new connections are accepted but not forwarded until release(). */
  holdNew(n: number): void {
    this.hold = n;
  }

  release(): void {
    this.hold = 0;
    for (const f of this.held.splice(0)) f();
  }

  async stop(): Promise<void> {
    this.release();
    this.cut();
    await new Promise((r) => this.server?.close(r));
  }
}

/** A request as the fault proxy saw it. */
export interface SeenRequest {
  method: string;
  /** The URL path, without the query. */
  path: string;
  query: URLSearchParams;
  watch: boolean;
  at: number;
  /** The client closed it before it was answered (it gave up on a held request). */
  abandoned: boolean;
  /** A POST's object name (its JSON body's metadata.name), once the body has arrived: which pod a create made. */
  name?: string;
  /** The fault chosen for it; undefined: forwarded as it was. */
  fault?: Fault['kind'];
}

/** What the fault proxy does with one request, instead of forwarding it as it is. */
export type Fault =
  /** Answered with this HTTP status and a metav1.Status, as the API server refuses a request. */
  | { kind: 'status'; code: number; reason: string }
  /** A watch answered 200 with one ERROR event carrying this Status, then closed, as the API server does. */
  | { kind: 'watchError'; code: number; reason: string }
  /** A watch answered 200 with no event at all. */
  | { kind: 'emptyWatch' }
  /** Forwarded, and the connection cut after `ms`. */
  | { kind: 'cutAfter'; ms: number }
  /** Never answered: it waits until the client gives up (or the proxy stops). */
  | { kind: 'hold' }
  /**
   * A watch forwarded event by event until one for which `until` holds: that event is sent and
   * the watch ends there, as if the server had closed it. The client sees the events up to it
   * and none after (a stale cache at a chosen point, the Sieve technique).
   */
  | { kind: 'endAfterEvent'; until: (event: { type: string; object: any }) => boolean; ended?: () => void };

const statusBody = (code: number, reason: string) => ({
  kind: 'Status',
  apiVersion: 'v1',
  status: 'Failure',
  code,
  reason,
  message: `fault proxy: ${reason}`,
});

/**
 * An HTTPS proxy in front of the API server that sees each request (TLS ends here, with the API
 * server's own serving certificate, so clients trust it as they trust the server), counts them, and
 * applies the fault `fault` chooses for each. Requests go on to the real API server with their
 * headers, so the client must authenticate with a token (a ServiceAccount's), not a client certificate.
 */
export class FaultProxy {
  port = 0;
  readonly seen: SeenRequest[] = [];
  /** Chooses a fault for a request; undefined: forwarded as it is. */
  fault: (r: SeenRequest) => Fault | undefined = () => undefined;
  private server: HttpsServer | undefined;
  private readonly upstream: HttpsAgent;
  /** Requests in flight, with what was seen of each. */
  private readonly responses = new Map<ServerResponse, SeenRequest>();

  constructor(
    private readonly target: URL,
    private readonly pki: { ca: Buffer; cert: Buffer; key: Buffer },
  ) {
    this.upstream = new HttpsAgent({ keepAlive: true, ca: pki.ca });
  }

  async start(): Promise<this> {
    this.server = createHttpsServer({ cert: this.pki.cert, key: this.pki.key }, (req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  /** Requests seen since `since` (a Date.now() value) that match. */
  count(pred: (r: SeenRequest) => boolean, since = 0): number {
    return this.seen.filter((r) => r.at >= since && pred(r)).length;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'https://proxy');
    const seen: SeenRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      watch: ['1', 'true'].includes(url.searchParams.get('watch') ?? ''),
      at: Date.now(),
      abandoned: false,
    };
    this.seen.push(seen);
    if (seen.method === 'POST') FaultProxy.readName(req, seen);
    this.responses.set(res, seen);
    res.on('close', () => {
      this.responses.delete(res);
      if (!res.writableFinished) seen.abandoned = true;
    });
    const fault = this.fault(seen);
    seen.fault = fault?.kind;
    if (!fault || fault.kind === 'cutAfter') return this.forward(req, res, fault?.ms);
    if (fault.kind === 'endAfterEvent') return this.forward(req, res, undefined, fault);
    if (fault.kind === 'hold') return;
    if (fault.kind === 'status') {
      res.writeHead(fault.code, { 'Content-Type': 'application/json' });
      return void res.end(JSON.stringify(statusBody(fault.code, fault.reason)));
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    if (fault.kind === 'emptyWatch') return void res.end();
    res.end(JSON.stringify({ type: 'ERROR', object: statusBody(fault.code, fault.reason) }) + '\n');
  }

  /**
   * Sends the request on to the API server and its answer back; with `cutAfterMs`, cuts both
   * after that; with `endAfter`, ends the answer after the first watch event it chooses.
   */
  private forward(
    req: IncomingMessage,
    res: ServerResponse,
    cutAfterMs?: number,
    endAfter?: Extract<Fault, { kind: 'endAfterEvent' }>,
  ): void {
    const headers = { ...req.headers, host: this.target.host };
    delete headers.connection;
    const up = httpsRequest(
      {
        host: this.target.hostname,
        port: this.target.port,
        method: req.method,
        path: req.url,
        headers,
        agent: this.upstream,
      },
      (answer) => {
        const h = { ...answer.headers };
        delete h.connection;
        delete h['keep-alive'];
        res.writeHead(answer.statusCode ?? 502, h);
        // An answer cut upstream (kube-apiserver stopped mid-watch) is cut for the client too, as a
        // network would: piped alone, the client's stream would hang until its own idle timeout.
        answer.on('aborted', () => res.destroy());
        answer.on('error', () => res.destroy());
        if (endAfter) return FaultProxy.untilEvent(answer, res, endAfter);
        answer.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    if (cutAfterMs !== undefined) setTimeout(() => res.destroy(), cutAfterMs);
    req.pipe(up);
  }

  /** Sets `seen.name` from the request's JSON body, read alongside whatever else consumes it. */
  private static readName(req: IncomingMessage, seen: SeenRequest): void {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      try {
        seen.name = JSON.parse(Buffer.concat(chunks).toString('utf8'))?.metadata?.name;
      } catch {
        // Not JSON (or not an object): no name.
      }
    });
  }

  /** Passes a watch's events on, line by line, and ends it after the one `f.until` chooses. */
  private static untilEvent(
    answer: IncomingMessage,
    res: ServerResponse,
    f: Extract<Fault, { kind: 'endAfterEvent' }>,
  ): void {
    let buf = '';
    answer.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0 && !res.writableEnded) {
        const line = buf.slice(0, i + 1);
        buf = buf.slice(i + 1);
        res.write(line);
        if (!f.until(JSON.parse(line))) continue;
        res.end();
        answer.destroy();
        f.ended?.();
      }
    });
    answer.on('end', () => res.end());
  }

  /** The requests in flight now (not yet answered in full: an open watch, a held request). */
  inFlight(): SeenRequest[] {
    return [...this.responses.values()];
  }

  /** The held requests that match and that their client still waits for, now (not those forwarded and unanswered). */
  heldNow(pred: (r: SeenRequest) => boolean = () => true): SeenRequest[] {
    return this.inFlight().filter((r) => r.fault === 'hold' && pred(r));
  }

  /** Ends every request in flight (an open watch, a held request), as a network failure would. */
  cutAll(): void {
    this.cutWhere(() => true);
  }

  /** Ends the requests in flight that match (a chosen watch), leaving the others alone. */
  cutWhere(pred: (r: SeenRequest) => boolean): void {
    for (const [res, seen] of this.responses) if (pred(seen)) res.destroy();
  }

  async stop(): Promise<void> {
    this.cutAll();
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
    this.upstream.destroy();
  }
}

/** The local control plane's API server URL (from its admin kubeconfig). */
const apiServer = (): URL => new URL(kubeConfigVia(KUBECONFIG).server);

/** A kubeconfig file's connection; with `port`, sent to that loopback port (a proxy) instead. */
export function kubeConfigVia(kubeconfig: string, port?: number): KubeConfig {
  const spec = resolveKubeconfig(parse(readFileSync(kubeconfig, 'utf8')), dirname(kubeconfig), 'test');
  return kubeConnect(port === undefined ? spec : { ...spec, server: `https://127.0.0.1:${port}` });
}

/** A copy of a kubeconfig file whose server is this loopback port (a proxy): its path. */
export function kubeconfigFileVia(kubeconfig: string, port: number): string {
  const config = parse(readFileSync(kubeconfig, 'utf8'));
  for (const c of config.clusters) c.cluster.server = `https://127.0.0.1:${port}`;
  const path = join(CLUSTER_DIR, `via-${port}.kubeconfig`);
  writeFileSync(path, stringify(config), { mode: 0o600 });
  return path;
}

/** A LoopbackProxy in front of the local control plane's API server, started. */
export const clusterLoopbackProxy = (): Promise<LoopbackProxy> => new LoopbackProxy(Number(apiServer().port)).start();

/** A FaultProxy in front of the local control plane's API server (its CA and serving certificate), started. */
export function clusterFaultProxy(): Promise<FaultProxy> {
  const pki = (f: string) => readFileSync(join(CLUSTER_DIR, 'pki', f));
  return new FaultProxy(apiServer(), {
    ca: pki('ca.crt'),
    cert: pki('apiserver.crt'),
    key: pki('apiserver.key'),
  }).start();
}

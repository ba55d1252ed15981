// A small HTTPS client for the benchmark: no client-side rate limit (only a socket pool), every
// request counted by verb, and list+watch trackers that keep a projection of objects in memory.
// Talks only to the kubeconfig's server (loopback).
import { readFileSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
import { parse } from 'yaml';

export interface Auth {
  server: string;
  ca: Buffer;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
}

/** The server, CA and credentials of a kubeconfig's current context. */
export function authFromKubeconfig(file: string): Auth {
  const kc = parse(readFileSync(file, 'utf8'));
  const ctx = kc.contexts.find((c: any) => c.name === kc['current-context']).context;
  const cluster = kc.clusters.find((c: any) => c.name === ctx.cluster).cluster;
  const user = kc.users.find((u: any) => u.name === ctx.user).user;
  const server: string = cluster.server;
  if (!/^https:\/\/(127\.0\.0\.1|localhost)(:|\/|$)/.test(server)) throw new Error(`refusing non-loopback ${server}`);
  return {
    server,
    ca: readFileSync(cluster['certificate-authority']),
    cert: user['client-certificate'] ? readFileSync(user['client-certificate']) : undefined,
    key: user['client-key'] ? readFileSync(user['client-key']) : undefined,
    token: user.token,
  };
}

export interface Response {
  status: number;
  body: any;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: any,
    what: string,
  ) {
    super(`${what}: HTTP ${status} ${body?.message ?? ''}`);
  }
}

const VERBS: Record<string, string> = { POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

export class Api {
  readonly agent: Agent;
  /** Requests by verb (get, list, create, update, patch, delete, deletecollection). */
  readonly counts = new Map<string, number>();
  private readonly host: string;
  private readonly port: number;

  constructor(
    readonly auth: Auth,
    maxSockets = 32,
  ) {
    const u = new URL(auth.server);
    this.host = u.hostname;
    this.port = Number(u.port || 443);
    this.agent = new Agent({ keepAlive: true, maxSockets, ca: auth.ca, cert: auth.cert, key: auth.key });
  }

  resetCounts(): void {
    this.counts.clear();
  }

  countsObject(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort());
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      Accept: 'application/json',
      ...(this.auth.token ? { Authorization: `Bearer ${this.auth.token}` } : {}),
      ...extra,
    };
  }

  /** One request; resolves with any status (throws only on a transport error). */
  raw(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Response> {
    let verb = VERBS[method] ?? (isCollection(path) ? 'list' : 'get');
    if (method === 'DELETE' && isCollection(path)) verb = 'deletecollection';
    this.counts.set(verb, (this.counts.get(verb) ?? 0) + 1);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return this.send(method, path, payload, contentType).catch((e: NodeJS.ErrnoException & { reused?: boolean }) => {
      // A pooled keep-alive socket that the server closed just as it was reused: the request never
      // reached the server, so it is sent once more (as Node's docs advise, and Go's transport does).
      if (e.reused && e.code === 'ECONNRESET') return this.send(method, path, payload, contentType);
      throw e;
    });
  }

  private send(method: string, path: string, payload: string | undefined, contentType: string): Promise<Response> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          host: this.host,
          port: this.port,
          method,
          path,
          agent: this.agent,
          headers: this.headers(payload ? { 'Content-Type': contentType } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            let json: any = text;
            try {
              json = text ? JSON.parse(text) : undefined;
            } catch {
              /* not JSON */
            }
            resolve({ status: res.statusCode ?? 0, body: json });
          });
          res.on('error', reject);
        },
      );
      req.on('error', (e) => reject(Object.assign(e, { reused: req.reusedSocket })));
      req.end(payload);
    });
  }

  /** A request that must succeed (2xx, or one of `ok`). */
  async req(method: string, path: string, body?: unknown, ok: number[] = [], contentType?: string): Promise<any> {
    const r = await this.raw(method, path, body, contentType);
    if ((r.status < 200 || r.status > 299) && !ok.includes(r.status))
      throw new ApiError(r.status, r.body, `${method} ${path}`);
    return r.body;
  }

  /** Lists every page. */
  async list(path: string): Promise<{ items: any[]; resourceVersion: string }> {
    const items: any[] = [];
    let cont = '';
    for (;;) {
      const sep = path.includes('?') ? '&' : '?';
      const b = await this.req('GET', `${path}${sep}limit=500${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
      items.push(...b.items);
      cont = b.metadata?.continue ?? '';
      if (!cont) return { items, resourceVersion: b.metadata.resourceVersion };
    }
  }

  /** A watch: calls onEvent per event until the server ends it or stop() is called. */
  watch(
    path: string,
    resourceVersion: string,
    onEvent: (type: string, obj: any) => void,
  ): { done: Promise<void>; stop(): void } {
    const sep = path.includes('?') ? '&' : '?';
    let stop = () => {};
    const done = new Promise<void>((resolve) => {
      const req = httpsRequest(
        {
          host: this.host,
          port: this.port,
          method: 'GET',
          path: `${path}${sep}watch=true&allowWatchBookmarks=true&resourceVersion=${resourceVersion}&timeoutSeconds=1800`,
          agent: false,
          ca: this.auth.ca,
          cert: this.auth.cert,
          key: this.auth.key,
          headers: this.headers(),
        },
        (res) => {
          let buf = '';
          res.on('data', (c: Buffer) => {
            buf += c.toString();
            let i;
            while ((i = buf.indexOf('\n')) >= 0) {
              const line = buf.slice(0, i);
              buf = buf.slice(i + 1);
              if (!line.trim()) continue;
              try {
                const ev = JSON.parse(line);
                onEvent(ev.type, ev.object);
              } catch {
                /* partial or bad line */
              }
            }
          });
          res.on('end', () => resolve());
          res.on('error', () => resolve());
        },
      );
      req.on('error', () => resolve());
      req.end();
      stop = () => {
        req.destroy();
        resolve();
      };
    });
    return { done, stop: () => stop() };
  }
}

/** Whether a path names a collection (…/pods) rather than one object (…/pods/name[/status]). */
export function isCollection(path: string): boolean {
  const parts = path.split('?')[0]!.split('/').filter(Boolean);
  // /api/v1/[namespaces/ns/]pods[/name[/sub]] or /apis/g/v/[namespaces/ns/]res[/name[/sub]]
  let i = parts[0] === 'api' ? 2 : 3;
  if (parts[i] === 'namespaces' && parts.length > i + 2) i += 2;
  return parts.length === i + 1;
}

/** Runs fn over items with at most `concurrency` in flight. */
export async function pool<T>(
  items: T[],
  concurrency: number,
  fn: (item: T, i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const run = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, run));
}

/**
 * Lists then watches a collection, keeping `project(obj)` per name, and re-lists when a watch
 * ends. Its requests go through its own Api, so they are not counted as a system's.
 */
export class Tracker<T> {
  readonly objects = new Map<string, T>();
  /** MODIFIED events seen, per name. */
  readonly modified = new Map<string, number>();
  /** Called with every object listed or watched. */
  hook?: (type: string, obj: any) => void;
  private stopped = false;
  private current?: { stop(): void };
  private listeners = new Set<() => void>();
  readonly ready: Promise<void>;

  constructor(
    private readonly api: Api,
    private readonly path: string,
    private readonly project: (o: any) => T,
  ) {
    this.ready = this.loop();
  }

  private async loop(): Promise<void> {
    let first = true;
    let resolveFirst!: () => void;
    const firstDone = new Promise<void>((r) => (resolveFirst = r));
    void (async () => {
      while (!this.stopped) {
        try {
          const { items, resourceVersion } = await this.api.list(this.path);
          this.objects.clear();
          for (const o of items) {
            this.objects.set(o.metadata.name, this.project(o));
            this.hook?.('ADDED', o);
          }
          this.emit();
          if (first) {
            first = false;
            resolveFirst();
          }
          const w = this.api.watch(this.path, resourceVersion, (type, o) => {
            if (type === 'BOOKMARK' || type === 'ERROR') return;
            const name = o?.metadata?.name;
            if (!name) return;
            this.hook?.(type, o);
            if (type === 'DELETED') this.objects.delete(name);
            else this.objects.set(name, this.project(o));
            if (type === 'MODIFIED') this.modified.set(name, (this.modified.get(name) ?? 0) + 1);
            this.emit();
          });
          this.current = w;
          await w.done;
        } catch {
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    })();
    return firstDone;
  }

  private emit(): void {
    for (const l of this.listeners) l();
  }

  /** Resolves with Date.now() when pred holds (checked every 100 ms while objects change). */
  until(what: string, pred: (objs: T[]) => boolean, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      let dirty = true;
      const mark = () => (dirty = true);
      const check = () => {
        if (!dirty) return;
        dirty = false;
        if (pred([...this.objects.values()])) {
          finish();
          resolve(Date.now());
        }
      };
      const timer = setInterval(check, 100);
      const deadline = setTimeout(() => {
        finish();
        reject(new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`));
      }, timeoutMs);
      const finish = () => {
        clearInterval(timer);
        clearTimeout(deadline);
        this.listeners.delete(mark);
      };
      this.listeners.add(mark);
      check();
    });
  }

  stop(): void {
    this.stopped = true;
    this.current?.stop();
  }
}

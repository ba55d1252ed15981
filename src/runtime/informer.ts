// A reflector and cache: list, then watch from the list's resourceVersion; relist on 410
// Gone; restart with backoff on any other error (client-node's own informer stops on
// errors). Handlers only receive events; they must not throw (they enqueue keys).
import type { Logger } from './logger.ts';

export interface KObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    [k: string]: any;
  };
}

export interface ListPage<T> {
  items: T[];
  resourceVersion: string;
  continue?: string;
}
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
export interface WatchHandle {
  abort(): void;
}

/** How one resource is listed and watched; src/kube/sources.ts implements it. */
export interface ListWatchSource<T> {
  readonly resource: string;
  list(opts: { limit: number; continue?: string }): Promise<ListPage<T>>;
  watch(
    resourceVersion: string,
    onEvent: (type: WatchEventType, obj: any) => void,
    onDone: (err?: unknown) => void,
  ): Promise<WatchHandle>;
}

export type InformerEvent<T> =
  { type: 'add'; obj: T } | { type: 'update'; obj: T; old: T } | { type: 'delete'; obj: T };

export interface InformerHooks {
  relisted?(resource: string): void;
  restarted?(resource: string): void;
  synced?(resource: string, value: boolean): void;
}

export const objectKey = (o: KObject): string =>
  o.metadata?.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : `${o.metadata?.name}`;

class GoneError extends Error {}

export class Informer<T extends KObject> {
  private readonly store = new Map<string, T>();
  private readonly indexers = new Map<string, { fn: (o: T) => string[]; map: Map<string, Set<string>> }>();
  private readonly handlers: ((e: InformerEvent<T>) => void)[] = [];
  private watchHandle: WatchHandle | undefined;
  private stopped = false;
  private running: Promise<void> | undefined;
  private syncedOnce = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly source: ListWatchSource<T>,
    private readonly log: Logger,
    private readonly opts: {
      pageSize?: number;
      minBackoffMs?: number;
      maxBackoffMs?: number;
      hooks?: InformerHooks;
    } = {},
  ) {}

  get resource(): string {
    return this.source.resource;
  }
  get hasSynced(): boolean {
    return this.syncedOnce;
  }

  on(handler: (e: InformerEvent<T>) => void): void {
    this.handlers.push(handler);
  }

  /** Adds an index: each object is filed under the values `fn` returns. */
  addIndex(name: string, fn: (o: T) => string[]): void {
    const map = new Map<string, Set<string>>();
    this.indexers.set(name, { fn, map });
    for (const [key, obj] of this.store) this.indexAdd(name, key, obj);
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }
  list(): T[] {
    return [...this.store.values()];
  }
  byIndex(name: string, value: string): T[] {
    const idx = this.indexers.get(name);
    if (!idx) throw new Error(`informer ${this.resource} has no index ${name}`);
    return [...(idx.map.get(value) ?? [])].map((k) => this.store.get(k)!).filter(Boolean);
  }

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watchHandle?.abort();
    this.wake?.();
    await this.running;
  }

  private async loop(): Promise<void> {
    const min = this.opts.minBackoffMs ?? 500;
    const max = this.opts.maxBackoffMs ?? 30_000;
    let backoff = min;
    while (!this.stopped) {
      try {
        let rv = await this.relist();
        backoff = min;
        for (;;) {
          if (this.stopped) return;
          rv = await this.watchOnce(rv); // returns on a clean close; throws on errors
        }
      } catch (e) {
        if (this.stopped) return;
        if (e instanceof GoneError) {
          this.log.info('watch expired (410 Gone), relisting', { resource: this.resource });
          continue;
        }
        this.opts.hooks?.restarted?.(this.resource);
        this.log.warn('list/watch failed, retrying', {
          resource: this.resource,
          retryInMs: backoff,
          error: String((e as Error)?.message ?? e),
        });
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, max);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  /** Lists everything (paged) and replaces the store, emitting the differences. */
  private async relist(): Promise<string> {
    const fresh = new Map<string, T>();
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await this.source.list({ limit: this.opts.pageSize ?? 500, continue: cont });
      for (const item of page.items) fresh.set(objectKey(item), item);
      cont = page.continue || undefined;
      rv = page.resourceVersion;
    } while (cont);
    this.opts.hooks?.relisted?.(this.resource);
    for (const key of this.store.keys()) if (!fresh.has(key)) this.remove(key);
    for (const obj of fresh.values()) this.upsert(obj);
    if (!this.syncedOnce) {
      this.syncedOnce = true;
      this.opts.hooks?.synced?.(this.resource, true);
      this.log.info('cache synced', { resource: this.resource, objects: this.store.size });
    }
    return rv;
  }

  private watchOnce(resourceVersion: string): Promise<string> {
    return new Promise((resolve, reject) => {
      let rv = resourceVersion;
      let gone = false;
      const onEvent = (type: WatchEventType, obj: any) => {
        if (type === 'ERROR') {
          if (obj?.code === 410) gone = true;
          return;
        }
        if (obj?.metadata?.resourceVersion) rv = obj.metadata.resourceVersion;
        if (type === 'ADDED' || type === 'MODIFIED') this.upsert(obj);
        else if (type === 'DELETED') this.remove(objectKey(obj));
      };
      const onDone = (err?: unknown) => {
        this.watchHandle = undefined;
        const status = err as { statusCode?: number; code?: number } | undefined;
        if (gone || status?.statusCode === 410 || status?.code === 410) return reject(new GoneError());
        // client-node ends an idle watch with a TimeoutError after 30 s: just watch again.
        if (!err || (err as Error).name === 'TimeoutError' || (err as Error).name === 'AbortError') return resolve(rv);
        reject(err);
      };
      this.source.watch(rv, onEvent, onDone).then((h) => {
        this.watchHandle = h;
        if (this.stopped) h.abort();
      }, reject);
    });
  }

  private upsert(obj: T): void {
    const key = objectKey(obj);
    const old = this.store.get(key);
    if (old && old.metadata?.resourceVersion === obj.metadata?.resourceVersion) return;
    if (old) this.indexRemove(key, old);
    this.store.set(key, obj);
    for (const name of this.indexers.keys()) this.indexAdd(name, key, obj);
    this.emit(old ? { type: 'update', obj, old } : { type: 'add', obj });
  }

  private remove(key: string): void {
    const old = this.store.get(key);
    if (!old) return;
    this.store.delete(key);
    this.indexRemove(key, old);
    this.emit({ type: 'delete', obj: old });
  }

  private indexAdd(name: string, key: string, obj: T): void {
    const idx = this.indexers.get(name)!;
    for (const v of idx.fn(obj)) {
      let set = idx.map.get(v);
      if (!set) idx.map.set(v, (set = new Set()));
      set.add(key);
    }
  }

  private indexRemove(key: string, obj: T): void {
    for (const idx of this.indexers.values()) {
      for (const v of idx.fn(obj)) {
        const set = idx.map.get(v);
        set?.delete(key);
        if (set?.size === 0) idx.map.delete(v);
      }
    }
  }

  private emit(e: InformerEvent<T>): void {
    for (const h of this.handlers) {
      try {
        h(e);
      } catch (err) {
        this.log.error('informer handler threw', { resource: this.resource, error: String(err) });
      }
    }
  }
}

/** What controllers read: one informer, or several (one per watched namespace) as one. */
export interface Cache<T extends KObject> {
  readonly resource: string;
  readonly hasSynced: boolean;
  get(key: string): T | undefined;
  list(): T[];
  byIndex(name: string, value: string): T[];
  addIndex(name: string, fn: (o: T) => string[]): void;
  on(handler: (e: InformerEvent<T>) => void): void;
}

export class CacheSet<T extends KObject> implements Cache<T> {
  constructor(readonly parts: Informer<T>[]) {
    if (!parts.length) throw new Error('CacheSet needs at least one informer');
  }
  get resource(): string {
    return this.parts[0]!.resource;
  }
  get hasSynced(): boolean {
    return this.parts.every((p) => p.hasSynced);
  }
  get(key: string): T | undefined {
    for (const p of this.parts) {
      const o = p.get(key);
      if (o) return o;
    }
    return undefined;
  }
  list(): T[] {
    return this.parts.flatMap((p) => p.list());
  }
  byIndex(name: string, value: string): T[] {
    return this.parts.flatMap((p) => p.byIndex(name, value));
  }
  addIndex(name: string, fn: (o: T) => string[]): void {
    for (const p of this.parts) p.addIndex(name, fn);
  }
  on(handler: (e: InformerEvent<T>) => void): void {
    for (const p of this.parts) p.on(handler);
  }
}

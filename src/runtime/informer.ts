// A reflector and cache: list, then watch from the list's resourceVersion; relist on 410
// Gone; restart with backoff on any other error (as client-go's reflector does). Handlers
// only receive events; they must not throw (they enqueue keys).
import { apiErrorFields, httpStatus } from '../kube/errors.ts';
import { objectKey, type KObject } from './keys.ts';
import type { Logger } from './logger.ts';

export { objectKey, type KObject } from './keys.ts';

export interface ListPage<T> {
  items: T[];
  resourceVersion: string;
  continue?: string;
}
/** The metav1.Status an ERROR watch event carries (410 Gone: the resourceVersion is too old). */
export interface WatchStatus {
  code?: number;
  reason?: string;
  message?: string;
}
/** One watch event: an object of the resource, a bookmark (only a resourceVersion), or an error. */
export type WatchEvent<T> =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: T }
  | { type: 'BOOKMARK'; object: KObject }
  | { type: 'ERROR'; object: WatchStatus };
export interface WatchHandle {
  abort(): void;
}

/** How one resource is listed and watched; src/kube/sources.ts implements it. */
export interface ListWatchSource<T> {
  readonly resource: string;
  list(opts: { limit: number; continue?: string }): Promise<ListPage<T>>;
  watch(
    resourceVersion: string,
    onEvent: (e: WatchEvent<T>) => void,
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

/** A watch silent for minutes ends with a TimeoutError (src/kube/transport.ts); an aborted one ends quietly. */
const isQuietEnd = (err: unknown): boolean =>
  err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');

/** An informer as the manager runs it, whatever it caches. */
export interface RunnableInformer {
  readonly resource: string;
  readonly hasSynced: boolean;
  start(): void;
  stop(): Promise<void>;
}

class GoneError extends Error {}

export class Informer<T extends KObject> implements RunnableInformer {
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
          error: apiErrorFields(e),
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
    let rv: string;
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
      const onEvent = (e: WatchEvent<T>) => {
        if (e.type === 'ERROR') {
          if (e.object?.code === 410) gone = true;
          return;
        }
        if (e.object?.metadata?.resourceVersion) rv = e.object.metadata.resourceVersion;
        if (e.type === 'ADDED' || e.type === 'MODIFIED') this.upsert(e.object);
        else if (e.type === 'DELETED') this.remove(objectKey(e.object));
      };
      const onDone = (err?: unknown) => {
        this.watchHandle = undefined;
        if (gone || httpStatus(err) === 410) return reject(new GoneError());
        // A clean close, or an idle or aborted watch: just watch again.
        if (!err || isQuietEnd(err)) return resolve(rv);
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
        this.log.error('informer handler threw', { resource: this.resource, error: apiErrorFields(err) });
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

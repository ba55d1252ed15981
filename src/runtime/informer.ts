// A reflector and cache, as client-go's reflector: list, then watch from the list's
// resourceVersion, and watch again from the last resourceVersion seen whenever a watch ends
// healthily. A failure (an ERROR event, a refused or broken watch, a watch that closed at once
// with nothing, a LIST that failed or timed out) waits a growing, jittered backoff (backoff.ts)
// and then watches again from where it was; 410 Gone waits it too and then relists. Handlers
// only receive events; they must not throw (they enqueue keys).
import { KubeApiError, apiErrorFields, httpStatus } from '../kube/errors.ts';
import { Backoff } from './backoff.ts';
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
  list(opts: { limit: number; continue?: string; signal?: AbortSignal }): Promise<ListPage<T>>;
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
  /** A watch received a BOOKMARK (so a quiet watch is seen to be alive). */
  bookmarked?(resource: string): void;
  synced?(resource: string, value: boolean): void;
}

/** A watch silent for minutes ends with a TimeoutError (src/kube/transport.ts); an aborted one ends quietly. */
const isQuietEnd = (err: unknown): boolean =>
  err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');

/** What a resync found: how far the cache had been from the API server. `listed: false`: stopped first. */
export type ResyncResult =
  { listed: true; objects: number; added: number; updated: number; deleted: number } | { listed: false };

/** An informer as the manager runs it, whatever it caches. */
export interface RunnableInformer {
  readonly resource: string;
  readonly hasSynced: boolean;
  /** When the LIST the cache last holds began (ms since the epoch); undefined before the first. */
  readonly listStartedAt: number | undefined;
  start(): void;
  /** Lists again now, the watch in flight given up; resolves once the cache holds that list. */
  resync(): Promise<ResyncResult>;
  stop(): Promise<void>;
}

class GoneError extends Error {}

/** client-go's reflector: a watch that ends within this long with no event at all has failed. */
const SHORT_WATCH_MS = 1000;
/**
 * A LIST page not answered in this long is given up (aborted) and tried again after the backoff.
 * A page is at most `pageSize` objects; the API server's own limit for a request is 60 s.
 */
export const LIST_TIMEOUT_MS = 60_000;

/** The Status of a watch's ERROR event as an error: its code, reason and message, as an answer's would be. */
const watchStatusError = (status: WatchStatus, resource: string): KubeApiError =>
  new KubeApiError(status.code ?? 500, JSON.stringify({ kind: 'Status', ...status }), `watch ${resource}`);

export class Informer<T extends KObject> implements RunnableInformer {
  private readonly store = new Map<string, T>();
  private readonly indexers = new Map<string, { fn: (o: T) => string[]; map: Map<string, Set<string>> }>();
  private readonly handlers: ((e: InformerEvent<T>) => void)[] = [];
  private watchHandle: WatchHandle | undefined;
  private stopped = false;
  private running: Promise<void> | undefined;
  private syncedOnce = false;
  private wake: (() => void) | undefined;
  /** resync() was called: list again before the next watch. */
  private relistWanted = false;
  /** Callers of resync() waiting for a LIST that begins after their call. */
  private resyncWaiters: ((r: ResyncResult) => void)[] = [];
  /** Callers of resync() the next LIST answers (it begins after they asked). */
  private answering: ((r: ResyncResult) => void)[] = [];
  private lastListStartedAt: number | undefined;
  /** What the last LIST changed in the cache. */
  private lastResync: ResyncResult = { listed: false };
  /** Aborts a LIST in flight on stop(). */
  private readonly stopping = new AbortController();
  private readonly backoff: Backoff;

  constructor(
    private readonly source: ListWatchSource<T>,
    private readonly log: Logger,
    private readonly opts: {
      pageSize?: number;
      /** The backoff after a failure (backoff.ts): 800 ms doubling to 30 s, reset after 2 min without one. */
      minBackoffMs?: number;
      maxBackoffMs?: number;
      backoffResetMs?: number;
      /** How long one LIST page may take: LIST_TIMEOUT_MS unless given. */
      listTimeoutMs?: number;
      hooks?: InformerHooks;
    } = {},
  ) {
    this.backoff = new Backoff({
      initialMs: opts.minBackoffMs ?? 800,
      maxMs: opts.maxBackoffMs ?? 30_000,
      resetAfterMs: opts.backoffResetMs ?? 120_000,
      jitter: 1,
    });
  }

  get resource(): string {
    return this.source.resource;
  }
  get hasSynced(): boolean {
    return this.syncedOnce;
  }
  get listStartedAt(): number | undefined {
    return this.lastListStartedAt;
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

  /**
   * A cache may be behind the API server for as long as its watch is stuck, and nothing on this
   * side can tell (a quiet resource looks the same). A new leader calls this before it acts: the
   * LIST (a quorum read) shows at least everything written before the call, whatever the watch
   * missed. Waits, through the usual backoff, until a LIST begun after the call has been applied.
   */
  resync(): Promise<ResyncResult> {
    if (this.stopped) return Promise.resolve({ listed: false });
    return new Promise((resolve) => {
      this.resyncWaiters.push(resolve);
      // Set before the abort: the watch's end (called within abort()) must read as asked for, not
      // as a watch that closed at once (a failure, backed off).
      this.relistWanted = true;
      this.watchHandle?.abort();
      this.wake?.();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    this.watchHandle?.abort();
    this.wake?.();
    await this.running;
    for (const w of [...this.answering.splice(0), ...this.resyncWaiters.splice(0)]) w({ listed: false });
  }

  private async loop(): Promise<void> {
    // The resourceVersion to watch from; undefined: the cache must be (re)listed first.
    let rv: string | undefined;
    while (!this.stopped) {
      try {
        if (this.relistWanted) {
          this.relistWanted = false;
          rv = undefined;
          this.answering.push(...this.resyncWaiters.splice(0));
        }
        if (rv === undefined) {
          rv = await this.relist();
          for (const w of this.answering.splice(0)) w(this.lastResync);
        }
        if (this.relistWanted) continue;
        // Each event's resourceVersion is kept as it arrives: after a failure the next watch starts
        // from the last event applied, not from where this one started (the server would replay
        // events already applied, and the cache would go back in time meanwhile).
        rv = await this.watchOnce(rv, (seen) => (rv = seen)); // resolves on a healthy close: watch again at once
      } catch (e) {
        if (this.stopped) return;
        if (e instanceof GoneError) rv = undefined;
        await this.backOff(e);
      }
    }
  }

  /**
   * Waits before the next LIST or watch. 410 Gone is routine (the watch fell out of the server's
   * window): info. Anything else is a restart, counted and logged with the server's Status.
   */
  private async backOff(e: unknown): Promise<void> {
    const waitMs = this.backoff.next();
    if (e instanceof GoneError) {
      this.log.info('watch expired (410 Gone), relisting', { resource: this.resource, relistInMs: waitMs });
    } else {
      this.opts.hooks?.restarted?.(this.resource);
      this.log.warn('list/watch failed, retrying', {
        resource: this.resource,
        retryInMs: waitMs,
        error: apiErrorFields(e),
      });
    }
    await this.sleep(waitMs);
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
    const startedAt = Date.now();
    const fresh = new Map<string, T>();
    let cont: string | undefined;
    let rv: string;
    do {
      const signal = AbortSignal.any([
        this.stopping.signal,
        AbortSignal.timeout(this.opts.listTimeoutMs ?? LIST_TIMEOUT_MS),
      ]);
      const page = await this.source.list({ limit: this.opts.pageSize ?? 500, continue: cont, signal });
      for (const item of page.items) fresh.set(objectKey(item), item);
      cont = page.continue || undefined;
      rv = page.resourceVersion;
    } while (cont);
    this.opts.hooks?.relisted?.(this.resource);
    const diff = { listed: true as const, objects: fresh.size, added: 0, updated: 0, deleted: 0 };
    for (const key of this.store.keys()) if (!fresh.has(key) && this.remove(key)) diff.deleted++;
    for (const obj of fresh.values()) {
      const change = this.upsert(obj);
      if (change === 'replaced') diff.deleted++;
      if (change === 'added' || change === 'replaced') diff.added++;
      if (change === 'updated') diff.updated++;
    }
    this.lastResync = diff;
    this.lastListStartedAt = startedAt;
    if (!this.syncedOnce) {
      this.syncedOnce = true;
      this.opts.hooks?.synced?.(this.resource, true);
      this.log.info('cache synced', { resource: this.resource, objects: this.store.size });
    }
    return rv;
  }

  /**
   * One watch from `resourceVersion`. Resolves with the last resourceVersion seen when it ended
   * healthily (the server's timeout, an idle watch); rejects with GoneError on 410, with the Status
   * of any other ERROR event (the server ends the watch after one), with what broke the stream, or
   * when it closed within SHORT_WATCH_MS without a single event (client-go's "very short watch").
   */
  private watchOnce(resourceVersion: string, seen: (rv: string) => void): Promise<string> {
    return new Promise((resolve, reject) => {
      let rv = resourceVersion;
      let events = 0;
      let bookmarks = 0;
      let failure: unknown;
      const startedAt = Date.now();
      const onEvent = (e: WatchEvent<T>) => {
        if (failure) return;
        if (e.type === 'ERROR') {
          failure = watchStatusError(e.object ?? {}, this.resource);
          return this.watchHandle?.abort();
        }
        events++;
        if (e.type === 'BOOKMARK') {
          bookmarks++;
          this.opts.hooks?.bookmarked?.(this.resource);
        }
        if (e.object?.metadata?.resourceVersion) seen((rv = e.object.metadata.resourceVersion));
        if (e.type === 'ADDED' || e.type === 'MODIFIED') this.upsert(e.object);
        else if (e.type === 'DELETED') this.remove(objectKey(e.object));
      };
      const onDone = (err?: unknown) => {
        this.watchHandle = undefined;
        // Silent past the idle timeout: a quiet resource (the server bookmarks a watch only once
        // its cache has moved on), or a stuck stream whose cache was stale all that time. Watched
        // again either way; said at info (with whether it had been bookmarked) so a stale cache
        // can be told from a quiet one when reading a log, not counted as a failure.
        if (err instanceof Error && err.name === 'TimeoutError' && !failure)
          this.log.info('watch silent past its idle timeout; watching again', {
            resource: this.resource,
            events,
            bookmarks,
            openForMs: Date.now() - startedAt,
          });
        const why = failure ?? (isQuietEnd(err) ? undefined : err);
        if (httpStatus(why) === 410) return reject(new GoneError());
        if (why) return reject(why);
        if (!err && !events && Date.now() - startedAt < SHORT_WATCH_MS && !this.stopped && !this.relistWanted)
          return reject(new Error(`the watch closed within ${SHORT_WATCH_MS} ms without any event`));
        resolve(rv);
      };
      this.source.watch(rv, onEvent, onDone).then((h) => {
        this.watchHandle = h;
        if (this.stopped || failure || this.relistWanted) h.abort();
      }, reject);
    });
  }

  /** Stores the object; what that changed. */
  private upsert(obj: T): 'same' | 'added' | 'updated' | 'replaced' {
    const key = objectKey(obj);
    let old = this.store.get(key);
    if (old && old.metadata?.resourceVersion === obj.metadata?.resourceVersion) return 'same';
    let replaced = false;
    // Another object under the same name (deleted and created again while the watch was down, seen
    // by a relist): handlers see the old one's delete, then an add, as client-go's DeltaFIFO
    // replace does, never an "update" from one object to another (a pod's name is reused per index).
    if (old && old.metadata?.uid !== obj.metadata?.uid) {
      this.remove(key);
      old = undefined;
      replaced = true;
    }
    if (old) this.indexRemove(key, old);
    this.store.set(key, obj);
    for (const name of this.indexers.keys()) this.indexAdd(name, key, obj);
    this.emit(old ? { type: 'update', obj, old } : { type: 'add', obj });
    if (replaced) return 'replaced';
    return old ? 'updated' : 'added';
  }

  /** Whether there was an object under the key. */
  private remove(key: string): boolean {
    const old = this.store.get(key);
    if (!old) return false;
    this.store.delete(key);
    this.indexRemove(key, old);
    this.emit({ type: 'delete', obj: old });
    return true;
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

// Runs the operator: health and metrics servers, informers (on every replica, so a standby
// has warm caches), leader election, and the controllers' workers (on the leader only,
// once every cache has synced). Shutdown runs the same steps backwards.
import type { Server } from 'node:http';
import type { Controller } from './controller.ts';
import { closeServer, startHealthServer, startMetricsServer } from './health.ts';
import type { ResyncResult, RunnableInformer } from './informer.ts';
import type { LeaderElector } from './leaderelection.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';

export interface ManagerOptions {
  log: Logger;
  metrics: Metrics;
  informers: RunnableInformer[];
  controllers: Controller[];
  elector?: LeaderElector;
  healthAddr: { host: string; port: number };
  metricsAddr: { host: string; port: number };
  gracefulShutdownMs: number;
  /**
   * How long caches may take to sync (and, on becoming the leader, to be listed again) before the
   * controllers start; past it the operator gives up (`cachesNotReady`), as controller-runtime's
   * CacheSyncTimeout does, instead of holding the Lease and doing nothing.
   */
  cacheSyncTimeoutMs: number;
  /** The caches did not get ready in time: nothing was written; the caller releases the Lease and exits. */
  cachesNotReady(): void;
  /**
   * Stops every write of the operator's API client at once, those in flight included; reads go on.
   * Called when another replica may be the leader from now on (see leadershipLost and shutdown).
   */
  fenceWrites(reason: string): void;
}

/** While waiting for caches, how often to say which. */
const CACHE_WAIT_LOG_MS = 15_000;

/** Per resource (summed over namespaces): objects listed, and what the LIST changed in the cache. */
function changesByResource(informers: RunnableInformer[], results: ResyncResult[]) {
  const out: Record<string, { objects: number; added: number; updated: number; deleted: number }> = {};
  informers.forEach((inf, n) => {
    const r = results[n];
    if (!r?.listed) return;
    const o = (out[inf.resource] ??= { objects: 0, added: 0, updated: 0, deleted: 0 });
    o.objects += r.objects;
    o.added += r.added;
    o.updated += r.updated;
    o.deleted += r.deleted;
  });
  return out;
}

export class Manager {
  private servers: Server[] = [];
  private controllersStarted = false;
  private stopping = false;
  /** Leadership was lost: controllers never start (the process is exiting). */
  private lost = false;

  constructor(private readonly o: ManagerOptions) {}

  get synced(): boolean {
    return this.o.informers.every((i) => i.hasSynced);
  }

  async start(): Promise<void> {
    const { log } = this.o;
    this.servers.push(
      await startHealthServer(this.o.healthAddr.port, this.o.healthAddr.host, {
        healthz: () => ({ ok: true, detail: 'ok' }),
        readyz: () => {
          const pending = this.o.informers.filter((i) => !i.hasSynced).map((i) => i.resource);
          return pending.length
            ? { ok: false, detail: `caches not synced: ${pending.join(', ')}` }
            : { ok: true, detail: 'ok' };
        },
      }),
    );
    this.servers.push(await startMetricsServer(this.o.metricsAddr.port, this.o.metricsAddr.host, this.o.metrics));
    log.info('serving health and metrics', { health: this.o.healthAddr, metrics: this.o.metricsAddr });
    for (const i of this.o.informers) i.start();
    if (this.o.elector) {
      this.o.metrics.isLeader.set({ name: 'gaffer' }, 0);
      this.o.elector.start();
    } else {
      void this.startControllers();
    }
  }

  /** Called when this replica becomes the leader (or at once without leader election). */
  async startControllers(): Promise<void> {
    if (this.controllersStarted || this.stopping) return;
    this.controllersStarted = true;
    this.o.metrics.isLeader.set({ name: 'gaffer' }, 1);
    if (!(await this.cachesReady(Date.now()))) return;
    this.o.log.info('caches synced; starting controllers', { controllers: this.o.controllers.map((c) => c.name) });
    for (const c of this.o.controllers) c.start();
  }

  /** Whether the controllers may start: caches ready within the bound, and still leading, not stopping. */
  private async cachesReady(ledAt: number): Promise<boolean> {
    const pending = new Set<RunnableInformer>();
    const names = () => [...new Set([...pending].map((i) => i.resource))];
    const work = this.syncAndRelist(ledAt, pending);
    const deadline = ledAt + this.o.cacheSyncTimeoutMs;
    let done = false;
    void work.finally(() => (done = true));
    while (!done) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      await Promise.race([work, new Promise((r) => setTimeout(r, Math.min(left, CACHE_WAIT_LOG_MS)))]);
      if (!done && Date.now() < deadline)
        this.o.log.info('waiting for caches before starting controllers', { pending: names() });
    }
    if (this.stopping || this.lost) return false;
    if (done) return true;
    this.o.log.error('caches not ready within the cache sync timeout; exiting without having reconciled', {
      pending: names(),
      cacheSyncTimeoutMs: this.o.cacheSyncTimeoutMs,
    });
    this.stopping = true;
    this.o.cachesNotReady();
    return false;
  }

  /**
   * Waits for every cache's first sync. A leader then lists again each cache whose LIST began
   * before it led: a standby's caches synced long ago, and a watch can stall with nothing to tell
   * it from a quiet one, so a new leader acting on them would write status from the past (a
   * master replaced minutes ago). Caches listed after it led are fresh.
   */
  private async syncAndRelist(ledAt: number, pending: Set<RunnableInformer>): Promise<void> {
    const { informers } = this.o;
    for (const i of informers) if (!i.hasSynced) pending.add(i);
    while (!this.synced && !this.stopping && !this.lost) {
      for (const i of pending) if (i.hasSynced) pending.delete(i);
      await new Promise((r) => setTimeout(r, 100));
    }
    pending.clear();
    if (!this.o.elector || this.stopping || this.lost) return;
    const stale = informers.filter((i) => (i.listStartedAt ?? 0) < ledAt);
    if (!stale.length) return;
    const started = Date.now();
    const results = await Promise.all(
      stale.map((i) => {
        pending.add(i);
        return i.resync().finally(() => pending.delete(i));
      }),
    );
    if (!results.every((r) => r.listed)) return; // stopped meanwhile
    this.o.log.info('caches listed again on becoming the leader', {
      tookMs: Date.now() - started,
      changes: changesByResource(stale, results),
    });
  }

  /**
   * Leadership lost: another replica may take the Lease as soon as it expires, so this one must
   * not write again. Writes are fenced first (those in flight are aborted), then the workers are
   * told to stop without waiting for them: whatever a reconcile still tries fails at the fence.
   * The caller exits; a Deployment's restart brings this replica back as a standby.
   */
  leadershipLost(): void {
    this.lost = true;
    this.o.fenceWrites('leadership lost');
    this.o.metrics.isLeader.set({ name: 'gaffer' }, 0);
    for (const c of this.o.controllers) void c.stop(0);
  }

  /** Stops taking keys and waits for reconciles in flight (bounded); whether they all ended. */
  private async drainControllers(): Promise<boolean> {
    this.o.metrics.isLeader.set({ name: 'gaffer' }, 0);
    const drained = await Promise.all(this.o.controllers.map((c) => c.stop(this.o.gracefulShutdownMs)));
    return drained.every(Boolean);
  }

  /**
   * Graceful shutdown: stop taking keys, let reconciles finish (bounded), fence writes, release
   * the lease. When a reconcile outlives the bound, releasing would let a standby lead at once
   * while a request of that reconcile may still be on its way: the Lease is left to expire instead.
   */
  async shutdown(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const { log } = this.o;
    log.info('shutting down', { gracefulShutdownMs: this.o.gracefulShutdownMs });
    if (await this.drainControllers()) {
      // Writes nobody awaits (events queued behind their pacer) must not outlive the handover either.
      this.o.fenceWrites('shutdown');
      await this.o.elector?.release();
    } else {
      this.o.fenceWrites('shutdown: reconciles outlived the graceful shutdown timeout');
      if (this.o.elector)
        log.warn('reconciles outlived the graceful shutdown timeout: writes fenced, the lease is left to expire', {
          gracefulShutdownMs: this.o.gracefulShutdownMs,
        });
      this.o.elector?.abandon();
    }
    await Promise.all(this.o.informers.map((i) => i.stop()));
    await Promise.all(this.servers.map(closeServer));
    log.info('shut down');
  }
}

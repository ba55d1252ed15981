// Runs the operator: health and metrics servers, informers (on every replica, so a standby
// has warm caches), leader election, and the controllers' workers (on the leader only,
// once every cache has synced). Shutdown runs the same steps backwards.
import type { Server } from 'node:http';
import type { Controller } from './controller.ts';
import { closeServer, startHealthServer, startMetricsServer } from './health.ts';
import type { RunnableInformer } from './informer.ts';
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
   * Stops every write of the operator's API client at once, those in flight included; reads go on.
   * Called when another replica may be the leader from now on (see leadershipLost and shutdown).
   */
  fenceWrites(reason: string): void;
}

export class Manager {
  private servers: Server[] = [];
  private controllersStarted = false;
  private stopping = false;

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
    while (!this.synced && !this.stopping) await new Promise((r) => setTimeout(r, 100));
    if (this.stopping) return;
    this.o.log.info('caches synced; starting controllers', { controllers: this.o.controllers.map((c) => c.name) });
    for (const c of this.o.controllers) c.start();
  }

  /**
   * Leadership lost: another replica may take the Lease as soon as it expires, so this one must
   * not write again. Writes are fenced first (those in flight are aborted), then the workers are
   * told to stop without waiting for them: whatever a reconcile still tries fails at the fence.
   * The caller exits; a Deployment's restart brings this replica back as a standby.
   */
  leadershipLost(): void {
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

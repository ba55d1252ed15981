// Leader election on a coordination.k8s.io/v1 Lease, after client-go's leaderelection
// (tryAcquireOrRenew): expiry is judged by our own clock from when we last saw the record
// change, never by the holder's timestamps, so clock skew between replicas does not matter.
import { apiErrorFields, isConflict } from '../kube/errors.ts';
import type { Logger } from './logger.ts';

export interface LeaseRecord {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

/** Storage of the Lease; src/kube implements it. `update` must be conditional on resourceVersion (409 otherwise). */
export interface LeaseStore {
  describe: string;
  get(): Promise<{ record: LeaseRecord; resourceVersion: string } | undefined>;
  create(record: LeaseRecord): Promise<void>;
  update(record: LeaseRecord, resourceVersion: string): Promise<void>;
}

export interface LeaderElectionOptions {
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  onStartedLeading(): void;
  /** Called once when leadership is lost (not on release). The process should stop reconciling at once. */
  onStoppedLeading(): void;
  log: Logger;
}

export function checkTimings(
  o: Pick<LeaderElectionOptions, 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs'>,
): string | undefined {
  if (!(o.leaseDurationMs > o.renewDeadlineMs)) return 'the lease duration must be longer than the renew deadline';
  if (!(o.renewDeadlineMs > o.retryPeriodMs * 1.2))
    return 'the renew deadline must be longer than 1.2 x the retry period';
  if (!(o.retryPeriodMs > 0)) return 'the retry period must be positive';
  return undefined;
}

export class LeaderElector {
  private observed: { raw: string; at: number; record: LeaseRecord } | undefined;
  private leading = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private lastRenew = 0;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly store: LeaseStore,
    private readonly o: LeaderElectionOptions,
  ) {
    const bad = checkTimings(o);
    if (bad) throw new Error(`leader election: ${bad}`);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.loop ??= this.run();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((r) => {
      this.timer = setTimeout(r, ms);
    });
  }

  /** One attempt, given up after `ms` (a hung request must not keep us leading). */
  private attempt(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((r) => {
      timer = setTimeout(() => r(false), Math.max(0, ms));
    });
    const tried = this.tryAcquireOrRenew().catch((e) => {
      this.o.log.warn('leader election: lease request failed', {
        lease: this.store.describe,
        error: apiErrorFields(e),
      });
      return false;
    });
    return Promise.race([tried, timeout]).finally(() => clearTimeout(timer));
  }

  private async run(): Promise<void> {
    const { log } = this.o;
    // Campaign: retry with jitter until the lease is ours.
    while (!this.stopped && !this.leading) {
      if (await this.attempt(this.o.renewDeadlineMs)) {
        if (this.stopped) return;
        this.leading = true;
        this.lastRenew = Date.now();
        log.info('became leader', { lease: this.store.describe, identity: this.o.identity });
        this.o.onStartedLeading();
      } else {
        await this.sleep(this.o.retryPeriodMs * (1 + Math.random() * 0.2));
      }
    }
    // Lead: renew every retry period; stop before the lease can expire for the others.
    while (!this.stopped && this.leading) {
      await this.sleep(this.o.retryPeriodMs);
      if (this.stopped) return;
      const ok = await this.attempt(this.lastRenew + this.o.renewDeadlineMs - Date.now());
      if (this.stopped) return;
      if (ok) {
        this.lastRenew = Date.now();
        continue;
      }
      if (Date.now() - this.lastRenew >= this.o.renewDeadlineMs) {
        this.leading = false;
        log.error('lost leadership: could not renew the lease within the renew deadline', {
          lease: this.store.describe,
          renewDeadlineMs: this.o.renewDeadlineMs,
        });
        this.o.onStoppedLeading();
      }
    }
  }

  /** One round of client-go's tryAcquireOrRenew. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const now = new Date();
    const desired: LeaseRecord = {
      holderIdentity: this.o.identity,
      leaseDurationSeconds: Math.ceil(this.o.leaseDurationMs / 1000),
      acquireTime: now.toISOString(),
      renewTime: now.toISOString(),
      leaseTransitions: 0,
    };
    const current = await this.store.get();
    if (!current) {
      try {
        await this.store.create(desired);
      } catch (e) {
        this.warn('create', e);
        return false;
      }
      this.observe(desired, now.getTime());
      return true;
    }
    const raw = JSON.stringify(current.record);
    if (!this.observed || this.observed.raw !== raw) this.observed = { raw, at: now.getTime(), record: current.record };
    const rec = current.record;
    const heldByOther = !!rec.holderIdentity && rec.holderIdentity !== this.o.identity;
    const duration = (rec.leaseDurationSeconds ?? 0) * 1000;
    if (heldByOther && this.observed.at + duration > now.getTime()) return false;

    if (rec.holderIdentity === this.o.identity) {
      desired.acquireTime = rec.acquireTime ?? desired.acquireTime;
      desired.leaseTransitions = rec.leaseTransitions ?? 0;
    } else {
      desired.leaseTransitions = (rec.leaseTransitions ?? 0) + 1;
    }
    try {
      await this.store.update(desired, current.resourceVersion);
    } catch (e) {
      this.warn('update', e);
      return false;
    }
    this.observe(desired, now.getTime());
    return true;
  }

  // A 409 is the normal outcome of a lost race; anything else is worth a line.
  private warn(what: string, e: unknown): void {
    if (isConflict(e)) return;
    this.o.log.warn(`leader election: lease ${what} failed`, { lease: this.store.describe, error: apiErrorFields(e) });
  }

  private observe(record: LeaseRecord, at: number): void {
    this.observed = { raw: JSON.stringify(record), at, record };
  }

  /** Stops campaigning; a leader hands the lease back so a standby takes over at once. */
  async release(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (!this.leading) return;
    this.leading = false;
    try {
      const current = await this.store.get();
      if (current?.record.holderIdentity !== this.o.identity) return;
      const now = new Date().toISOString();
      await this.store.update(
        { ...current.record, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now, acquireTime: now },
        current.resourceVersion,
      );
      this.o.log.info('released the lease', { lease: this.store.describe });
    } catch (e) {
      this.o.log.warn('could not release the lease; a standby takes over when it expires', {
        lease: this.store.describe,
        error: apiErrorFields(e),
      });
    }
  }
}

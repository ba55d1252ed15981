// Leader election on a coordination.k8s.io/v1 Lease, after client-go's leaderelection
// (tryAcquireOrRenew): expiry is judged by our own clock from when we last saw the record
// change, never by the holder's timestamps, so clock skew between replicas does not matter.
import { apiErrorFields, isConflict } from '../kube/errors.ts';
import { monotonicNow as monotonic } from './clock.ts';
import type { Logger } from './logger.ts';

// Every interval here is measured on the monotonic clock: a wall-clock step (NTP) must neither
// stretch a leader's deadline nor shorten a standby's wait. The Lease's own timestamps stay wall time.

export interface LeaseRecord {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

/**
 * Storage of the Lease; src/kube implements it. `update` must be conditional on resourceVersion
 * (409 otherwise). `signal` aborts a call whose try has run out of time.
 */
export interface LeaseStore {
  describe: string;
  get(signal?: AbortSignal): Promise<{ record: LeaseRecord; resourceVersion: string } | undefined>;
  create(record: LeaseRecord, signal?: AbortSignal): Promise<void>;
  update(record: LeaseRecord, resourceVersion: string, signal?: AbortSignal): Promise<void>;
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
  /** Whether this replica has led: from then on, writes are allowed only within the renew deadline. */
  private led = false;
  /** Another holder seen in the Lease while we led. */
  private takenBy: string | undefined;

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

  /**
   * How long one try (a GET, then a create or an update) may take: a quarter of the renew deadline,
   * at least 1 s, so that 3-4 tries fit in the renew deadline even when every one hangs (client-go
   * bounds the lease client's requests for the same reason: one hung request must not cost the lease).
   */
  private get tryTimeoutMs(): number {
    return Math.max(1000, this.o.renewDeadlineMs / 4);
  }

  /**
   * One try, aborted after `ms`: the abort destroys its request in flight, so the socket is free
   * for the next try instead of the try being only forgotten while its request still hangs.
   */
  private attempt(ms: number): Promise<boolean> {
    const deadline = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((r) => {
      timer = setTimeout(
        () => {
          this.o.log.warn('leader election: lease try timed out, aborted', {
            lease: this.store.describe,
            timeoutMs: ms,
          });
          deadline.abort(new Error(`the lease try took longer than ${ms} ms`));
          r(false);
        },
        Math.max(0, ms),
      );
    });
    const tried = this.tryAcquireOrRenew(deadline.signal).catch((e) => {
      if (!deadline.signal.aborted)
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
      const started = monotonic();
      if (await this.attempt(this.tryTimeoutMs)) {
        if (this.stopped) return;
        this.leading = true;
        this.led = true;
        this.lastRenew = started;
        log.info('became leader', { lease: this.store.describe, identity: this.o.identity });
        this.o.onStartedLeading();
      } else {
        await this.sleep(this.o.retryPeriodMs * (1 + Math.random() * 0.2));
      }
    }
    await this.lead();
  }

  /**
   * Renews every retry period, counted from the start of the last try (a try that timed out is
   * followed by the next at once), each try bounded by tryTimeoutMs and by what is left of the renew
   * deadline; stops leading when the deadline passes, before the lease can expire for the others.
   *
   * The deadline counts from the START of the last successful try, not from its answer: the server
   * wrote the renewal after that start, and a standby's expiry counts from when it saw the write, so
   * a slow answer cannot stretch our leadership past what the standby allows (client-go counts from
   * the answer). The sleep never outlasts the deadline either: loss is noticed when it happens.
   */
  private async lead(): Promise<void> {
    const { log } = this.o;
    let lastTry = this.lastRenew;
    while (!this.stopped && this.leading) {
      const deadline = this.lastRenew + this.o.renewDeadlineMs;
      await this.sleep(Math.max(0, Math.min(lastTry + this.o.retryPeriodMs, deadline) - monotonic()));
      if (this.stopped) return;
      lastTry = monotonic();
      const left = deadline - lastTry;
      const ok = left > 0 && (await this.attempt(Math.min(this.tryTimeoutMs, left)));
      if (this.stopped) return;
      if (ok) {
        this.lastRenew = lastTry;
        continue;
      }
      if (this.takenBy !== undefined) {
        this.leading = false;
        log.error('lost leadership: the lease is held by another replica', {
          lease: this.store.describe,
          holder: this.takenBy,
        });
        this.o.onStoppedLeading();
      } else if (monotonic() >= deadline) {
        this.leading = false;
        log.error('lost leadership: could not renew the lease within the renew deadline', {
          lease: this.store.describe,
          renewDeadlineMs: this.o.renewDeadlineMs,
        });
        this.o.onStoppedLeading();
      }
    }
  }

  /**
   * Why this replica must not write now, or undefined: it led, and its leadership has ended or
   * its renew deadline has passed. Checked by the API client before every write, so a write cannot
   * leave in the moment between the deadline and the renew loop noticing it (after an event-loop
   * stall, a timer due earlier, such as a paced write's, may run first).
   */
  writeBlocked(): string | undefined {
    if (!this.led) return undefined;
    if (!this.leading) return 'leadership ended';
    if (monotonic() >= this.lastRenew + this.o.renewDeadlineMs) return 'the renew deadline has passed';
    return undefined;
  }

  /** One round of client-go's tryAcquireOrRenew; `signal` aborts its requests. */
  async tryAcquireOrRenew(signal?: AbortSignal): Promise<boolean> {
    const now = new Date();
    const desired: LeaseRecord = {
      holderIdentity: this.o.identity,
      leaseDurationSeconds: Math.ceil(this.o.leaseDurationMs / 1000),
      acquireTime: now.toISOString(),
      renewTime: now.toISOString(),
      leaseTransitions: 0,
    };
    const current = await this.store.get(signal);
    if (!current) {
      // A Lease deleted under a live holder (kubectl delete, a reinstall): the holder re-creates it
      // at once, a standby only once the record it last saw would have expired (client-go creates
      // at once, and the old leader then writes until its next renewal try).
      if (this.othersUnexpired()) return false;
      try {
        await this.store.create(desired, signal);
      } catch (e) {
        this.warn('create', e);
        return false;
      }
      this.observe(desired);
      return true;
    }
    // A record we had not seen is stamped when it arrived, after the GET (client-go's observedTime):
    // stamped before a slow GET, a renewal that happened during it would look older than it is, and
    // a standby would take a lease its holder still owns.
    const raw = JSON.stringify(current.record);
    const seen = this.observed?.raw === raw ? this.observed : this.observe(current.record);
    const rec = current.record;
    const heldByOther = !!rec.holderIdentity && rec.holderIdentity !== this.o.identity;
    const duration = (rec.leaseDurationSeconds ?? 0) * 1000;
    if (heldByOther && this.leading) {
      // Someone else holds it while we lead (the Lease was deleted and re-created by a standby, or
      // we stalled past its expiry): step down now, not at our own deadline.
      this.takenBy = rec.holderIdentity;
      return false;
    }
    if (heldByOther && seen.at + duration > monotonic()) return false;

    if (rec.holderIdentity === this.o.identity) {
      desired.acquireTime = rec.acquireTime ?? desired.acquireTime;
      desired.leaseTransitions = rec.leaseTransitions ?? 0;
    } else {
      desired.leaseTransitions = (rec.leaseTransitions ?? 0) + 1;
    }
    try {
      await this.store.update(desired, current.resourceVersion, signal);
    } catch (e) {
      this.warn('update', e);
      return false;
    }
    this.observe(desired);
    return true;
  }

  // A 409 is the normal outcome of a lost race; anything else is worth a line.
  private warn(what: string, e: unknown): void {
    if (isConflict(e)) return;
    this.o.log.warn(`leader election: lease ${what} failed`, { lease: this.store.describe, error: apiErrorFields(e) });
  }

  /** Whether the record last seen names another holder whose lease has not expired by our clock. */
  private othersUnexpired(): boolean {
    const seen = this.observed;
    if (!seen?.record.holderIdentity || seen.record.holderIdentity === this.o.identity) return false;
    return seen.at + (seen.record.leaseDurationSeconds ?? 0) * 1000 > monotonic();
  }

  /** Remembers the record as last seen, now (after the request that returned or wrote it). */
  private observe(record: LeaseRecord): { raw: string; at: number; record: LeaseRecord } {
    this.observed = { raw: JSON.stringify(record), at: monotonic(), record };
    return this.observed;
  }

  /** Stops campaigning and renewing, without touching the Lease: it expires for the others. */
  abandon(): void {
    this.stopped = true;
    this.leading = false;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Stops campaigning; a leader hands the lease back so a standby takes over at once. */
  async release(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (!this.leading) return;
    this.leading = false;
    // Bounded as a try is: a shutdown must not hang on the API server (the lease then just expires).
    const signal = AbortSignal.timeout(this.tryTimeoutMs);
    try {
      const current = await this.store.get(signal);
      if (current?.record.holderIdentity !== this.o.identity) return;
      const now = new Date().toISOString();
      await this.store.update(
        { ...current.record, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now, acquireTime: now },
        current.resourceVersion,
        signal,
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

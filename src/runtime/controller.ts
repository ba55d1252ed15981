// A controller: a work queue of object keys and N workers running one Reconciler, with
// controller-runtime's contract: reconcile(key) returns an optional requeueAfter or throws
// to back off; a TerminalError is not retried; a 409 Conflict requeues without an error log.
import { randomUUID } from 'node:crypto';
import { apiErrorFields, isConflict } from '../kube/errors.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import { WorkQueue } from './queue.ts';
import type { RateLimiter } from './ratelimit.ts';

export interface ReconcileContext {
  log: Logger;
  reconcileId: string;
}
export interface ReconcileResult {
  requeueAfterMs?: number;
}
export interface Reconciler {
  reconcile(key: string, ctx: ReconcileContext): Promise<ReconcileResult | void>;
}

/**
 * An error that retrying will not fix (controller-runtime's reconcile.TerminalError): a
 * Reconciler throws it for, say, a write the API server refuses (400, 403, 422) whatever the
 * attempt. The controller logs it with the error's fields, counts it as an error, forgets the
 * key's backoff and does not requeue it: the next change of the object (an informer event)
 * brings it back. `cause` keeps the original error for the log.
 */
export class TerminalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

/**
 * The reconciled object itself was deleted while it was reconciled (a write to it answered 404):
 * there is nothing left to do, and no error to report. Its delete event forgets it.
 */
export class ObjectGone extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ObjectGone';
  }
}

export class Controller {
  readonly queue: WorkQueue;
  private workers: Promise<void>[] = [];
  private inFlight = 0;

  constructor(
    readonly name: string,
    private readonly reconciler: Reconciler,
    private readonly opts: { workers: number; limiter: RateLimiter<string>; log: Logger; metrics: Metrics },
  ) {
    const m = opts.metrics;
    this.queue = new WorkQueue(opts.limiter, {
      onAdd: () => {
        m.queueAdds.inc({ name });
        m.queueDepth.set({ name }, this.queue.length + 1);
      },
      onGet: (_k, waited) => {
        m.queueLatency.observe({ name }, waited / 1000);
        m.queueDepth.set({ name }, this.queue.length);
      },
      onRetry: () => m.queueRetries.inc({ name }),
    });
  }

  enqueue(key: string): void {
    this.queue.add(key);
  }
  enqueueAfter(key: string, ms: number): void {
    this.queue.addAfter(key, ms);
  }

  /** Starts the workers; they run until stop(). */
  start(): void {
    for (let i = 0; i < this.opts.workers; i++) this.workers.push(this.work());
  }

  /** Stops taking keys and waits up to `timeoutMs` for reconciles in flight. */
  async stop(timeoutMs: number): Promise<boolean> {
    this.queue.shutdown();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((r) => {
      timer = setTimeout(() => r(false), timeoutMs);
    });
    const drained = Promise.all(this.workers).then(() => true);
    const ok = await Promise.race([drained, timedOut]);
    clearTimeout(timer);
    if (!ok)
      this.opts.log.warn('reconciles still running at shutdown', { controller: this.name, inFlight: this.inFlight });
    return ok;
  }

  private async work(): Promise<void> {
    const { metrics: m, log } = this.opts;
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      const reconcileId = randomUUID();
      const rlog = log.child({ controller: this.name, key, reconcileId });
      const end = m.reconcileTime.startTimer({ controller: this.name });
      this.inFlight++;
      m.activeWorkers.set({ controller: this.name }, this.inFlight);
      try {
        const res = await this.reconciler.reconcile(key, { log: rlog, reconcileId });
        this.queue.forget(key);
        if (res?.requeueAfterMs !== undefined && res.requeueAfterMs >= 0) {
          this.queue.addAfter(key, res.requeueAfterMs);
          m.reconcileTotal.inc({ controller: this.name, result: 'requeue_after' });
        } else {
          m.reconcileTotal.inc({ controller: this.name, result: 'success' });
        }
      } catch (e) {
        if (isConflict(e)) {
          // Our cache was behind the server: try again once it has caught up. Not an error.
          rlog.debug('conflict, requeueing', { error: apiErrorFields(e) });
          m.reconcileTotal.inc({ controller: this.name, result: 'conflict' });
          this.queue.addRateLimited(key);
        } else if (e instanceof ObjectGone) {
          rlog.debug('the object is gone; nothing left to reconcile', { why: e.message });
          m.reconcileTotal.inc({ controller: this.name, result: 'gone' });
          this.queue.forget(key);
        } else if (e instanceof TerminalError) {
          rlog.error('reconcile failed; not retrying until the object changes', {
            error: apiErrorFields(e),
            ...(e.cause !== undefined && { cause: apiErrorFields(e.cause) }),
          });
          m.reconcileTotal.inc({ controller: this.name, result: 'terminal_error' });
          m.reconcileErrors.inc({ controller: this.name });
          this.queue.forget(key);
        } else {
          rlog.error('reconcile failed; retrying with backoff', {
            error: apiErrorFields(e),
            retries: this.queue.retries(key),
          });
          m.reconcileTotal.inc({ controller: this.name, result: 'error' });
          m.reconcileErrors.inc({ controller: this.name });
          this.queue.addRateLimited(key);
        }
      } finally {
        end();
        this.inFlight--;
        m.activeWorkers.set({ controller: this.name }, this.inFlight);
        this.queue.done(key);
      }
    }
  }
}

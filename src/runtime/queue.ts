// A keyed work queue with client-go's guarantees (workqueue package):
// - de-duplicating: a key added many times while waiting is processed once;
// - stingy: a key is never handed to two workers at once; a key added while it is being
//   processed is marked dirty and handed out again after done();
// - fair: keys are handed out in the order they became ready;
// - delaying (addAfter) and rate limited (addRateLimited / forget).
import { monotonicNow } from './clock.ts';
import type { RateLimiter } from './ratelimit.ts';

export interface QueueHooks {
  /** A key became ready (queue depth changed). */
  onAdd?(key: string): void;
  /** A key was handed to a worker after waiting `waitedMs`. */
  onGet?(key: string, waitedMs: number): void;
  onRetry?(key: string): void;
}

export class WorkQueue {
  private readonly ready: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly enqueuedAt = new Map<string, number>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  /** Delayed keys: the earliest time each is due, on the monotonic clock (a later addAfter never postpones it). */
  private readonly delayed = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private timerDue = Infinity;
  private shuttingDown = false;

  constructor(
    private readonly limiter: RateLimiter<string>,
    private readonly hooks: QueueHooks = {},
  ) {}

  /** Makes the key ready now (unless it is already waiting to be processed). */
  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    this.delayed.delete(key);
    this.enqueuedAt.set(key, monotonicNow());
    this.hooks.onAdd?.(key);
    if (this.processing.has(key)) return; // handed out again by done()
    this.push(key);
  }

  /** Adds the key after `ms`; an earlier pending time for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const due = monotonicNow() + ms;
    const current = this.delayed.get(key);
    if (current !== undefined && current <= due) return;
    this.delayed.set(key, due);
    this.schedule();
  }

  addRateLimited(key: string): void {
    this.hooks.onRetry?.(key);
    this.addAfter(key, this.limiter.when(key));
  }

  forget(key: string): void {
    this.limiter.forget(key);
  }
  retries(key: string): number {
    return this.limiter.retries(key);
  }

  /** The next key to process, or undefined once the queue is shut down and drained. */
  get(): Promise<string | undefined> {
    const key = this.ready.shift();
    if (key !== undefined) return Promise.resolve(this.handOut(key));
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks the key processed; if it was added meanwhile, it is ready again. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key) && !this.shuttingDown) this.push(key);
  }

  /** Keys ready to be processed (the queue depth). */
  get length(): number {
    return this.ready.length;
  }

  /** Stops handing out keys; workers waiting in get() receive undefined. */
  shutdown(): void {
    this.shuttingDown = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.delayed.clear();
    this.ready.length = 0;
    for (const w of this.waiters.splice(0)) w(undefined);
  }

  private push(key: string): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter(this.handOut(key));
    else this.ready.push(key);
  }

  private handOut(key: string): string {
    this.dirty.delete(key);
    this.processing.add(key);
    const at = this.enqueuedAt.get(key);
    this.enqueuedAt.delete(key);
    this.hooks.onGet?.(key, at === undefined ? 0 : monotonicNow() - at);
    return key;
  }

  private schedule(): void {
    let next = Infinity;
    for (const due of this.delayed.values()) next = Math.min(next, due);
    if (next === Infinity || next >= this.timerDue) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerDue = next;
    this.timer = setTimeout(() => this.fire(), Math.max(0, next - monotonicNow()));
    this.timer.unref?.();
  }

  private fire(): void {
    this.timer = undefined;
    this.timerDue = Infinity;
    const now = monotonicNow();
    for (const [key, due] of [...this.delayed]) {
      if (due <= now) {
        this.delayed.delete(key);
        this.add(key);
      }
    }
    this.schedule();
  }
}

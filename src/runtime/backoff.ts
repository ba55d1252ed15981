// The informer's retry backoff, client-go's ExponentialBackoffManager as its reflector uses it:
// waits that double from `initialMs` up to `maxMs`, each jittered (times 1 to 1 + jitter) so that
// informers failing together do not retry in step, and that start again from `initialMs` only
// once the retry after the last wait has run `resetAfterMs` without a failure (client-go counts
// from the start of the last wait; from its end, a 60 s wait cannot eat half of the 2 minutes).
// A success alone does not reset it: a watch that always fails right after a successful LIST (a
// 403 on watch only, a stream cut at once) must not go on retrying at the initial pace.

import { monotonicNow } from './clock.ts';

export interface BackoffOptions {
  /** The first wait (client-go: 800 ms). */
  initialMs: number;
  /** The longest wait before jitter (client-go: 30 s). */
  maxMs: number;
  /** Back to `initialMs` once a retry ran this long without failing (client-go: 2 min). */
  resetAfterMs: number;
  /** Each wait is its base times 1 to 1 + jitter (client-go: 1.0). */
  jitter: number;
  /** Injected for the unit tests; the monotonic clock by default. */
  now?: () => number;
  random?: () => number;
}

export class Backoff {
  private base: number;
  /** When the last wait ends: the retry starts then. */
  private retryAt: number | undefined;

  constructor(private readonly o: BackoffOptions) {
    this.base = o.initialMs;
  }

  /** The next wait, in ms. */
  next(): number {
    const now = (this.o.now ?? monotonicNow)();
    if (this.retryAt !== undefined && now - this.retryAt > this.o.resetAfterMs) this.base = this.o.initialMs;
    const wait = Math.round(this.base * (1 + (this.o.random ?? Math.random)() * this.o.jitter));
    this.retryAt = now + wait;
    this.base = Math.min(this.base * 2, this.o.maxMs);
    return wait;
  }
}

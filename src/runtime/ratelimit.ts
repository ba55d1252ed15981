// Rate limiters with client-go's semantics (workqueue/default_rate_limiters.go).
import { monotonicNow } from './clock.ts';

/** Decides how long an item waits before its next try. */
export interface RateLimiter<K = string> {
  when(item: K): number;
  forget(item: K): void;
  retries(item: K): number;
}

/** base * 2^failures, capped: 5 ms doubling to 1000 s by default. */
export class ItemExponentialLimiter<K = string> implements RateLimiter<K> {
  private failures = new Map<K, number>();
  constructor(
    private readonly baseMs = 5,
    private readonly maxMs = 1_000_000,
  ) {}
  when(item: K): number {
    const n = this.failures.get(item) ?? 0;
    this.failures.set(item, n + 1);
    // 2^n overflows to Infinity long before it matters; the cap keeps it finite.
    return Math.min(this.baseMs * 2 ** n, this.maxMs);
  }
  forget(item: K): void {
    this.failures.delete(item);
  }
  retries(item: K): number {
    return this.failures.get(item) ?? 0;
  }
}

/**
 * A token bucket: `qps` tokens a second, at most `burst` saved up. `reserve()` takes a token
 * now and returns how long the caller must wait for it (0 when one was available).
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    readonly qps: number,
    readonly burst: number,
    private readonly now: () => number = monotonicNow,
  ) {
    if (!(qps > 0) || !(burst >= 1))
      throw new Error(`token bucket needs qps > 0 and burst >= 1 (got ${qps}, ${burst})`);
    this.tokens = burst;
    this.last = now();
  }
  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.qps);
    this.last = t;
  }
  reserve(): number {
    this.refill();
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.qps) * 1000);
  }
  /** Resolves when the caller may go ahead. */
  async acquire(): Promise<void> {
    const wait = this.reserve();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}

/** An overall bucket as a RateLimiter: it slows retries of all items together. */
export class BucketLimiter<K = string> implements RateLimiter<K> {
  constructor(private readonly bucket: TokenBucket) {}
  when(): number {
    return this.bucket.reserve();
  }
  forget(): void {}
  retries(): number {
    return 0;
  }
}

/** The longest wait of several limiters (client-go's MaxOfRateLimiter). */
export class MaxOfLimiter<K = string> implements RateLimiter<K> {
  private readonly limiters: RateLimiter<K>[];
  constructor(...limiters: RateLimiter<K>[]) {
    this.limiters = limiters;
  }
  when(item: K): number {
    return Math.max(...this.limiters.map((l) => l.when(item)));
  }
  forget(item: K): void {
    for (const l of this.limiters) l.forget(item);
  }
  retries(item: K): number {
    return Math.max(...this.limiters.map((l) => l.retries(item)));
  }
}

/** client-go's DefaultControllerRateLimiter: per item 5 ms -> 1000 s, overall 10 qps / burst 100. */
export function defaultControllerRateLimiter<K = string>(
  opts: { baseMs?: number; maxMs?: number; qps?: number; burst?: number } = {},
): RateLimiter<K> {
  return new MaxOfLimiter<K>(
    new ItemExponentialLimiter<K>(opts.baseMs ?? 5, opts.maxMs ?? 1_000_000),
    new BucketLimiter<K>(new TokenBucket(opts.qps ?? 10, opts.burst ?? 100)),
  );
}

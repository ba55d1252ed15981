// Writes the API server refused (admission, validation, quota), remembered per cluster: the
// server's message is reported as a condition and the write is retried with backoff, never in
// a hot loop and never silently.
import { backoffSeconds } from '../common/time.ts';

export interface Refusal {
  /** Refusals in a row, for the backoff. */
  failures: number;
  retryAt: number;
  /** The API server's message. */
  message: string;
  /** The cluster generation it was refused at: a new spec is tried again at once. */
  generation?: number;
}

export class Refusals {
  private readonly byKey = new Map<string, Refusal>();

  /** The refusal whose backoff has not passed (and whose spec is unchanged): report it, send nothing. */
  pending(key: string, now: number, generation?: number): Refusal | undefined {
    const r = this.byKey.get(key);
    return r && now < r.retryAt && r.generation === generation ? r : undefined;
  }

  /** Records one more refusal in a row; the retry waits per `backoff`, doubling. */
  record(
    key: string,
    message: string,
    now: number,
    backoff: { initialSeconds: number; maxSeconds: number },
    generation?: number,
  ): Refusal {
    const failures = (this.byKey.get(key)?.failures ?? 0) + 1;
    const r = { failures, retryAt: now + backoffSeconds(failures, backoff) * 1000, message, generation };
    this.byKey.set(key, r);
    return r;
  }

  /**
   * The outcome of one round of writes: none refused clears the record; else the refusals, joined
   * into one message, count as one more in a row (returned, to be reported).
   */
  settle(
    key: string,
    refused: string[],
    now: number,
    backoff: { initialSeconds: number; maxSeconds: number },
    generation?: number,
  ): Refusal | undefined {
    if (!refused.length) return void this.clear(key);
    return this.record(key, refused.join('; '), now, backoff, generation);
  }

  /** The last refusal's message, due for a retry or not. */
  message(key: string): string | undefined {
    return this.byKey.get(key)?.message;
  }

  /** When the next try is due, for requeueing. */
  retryAt(key: string): number | undefined {
    return this.byKey.get(key)?.retryAt;
  }

  /** The write went through (or the cluster is gone). */
  clear(key: string): void {
    this.byKey.delete(key);
  }
}

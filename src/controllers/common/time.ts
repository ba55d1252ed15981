/** Milliseconds since the epoch of a Kubernetes timestamp (string in the cache, Date from typed calls). */
export function ms(t: string | Date | undefined | null): number | undefined {
  if (t === undefined || t === null || t === '') return undefined;
  const v = t instanceof Date ? t.getTime() : Date.parse(t);
  return Number.isNaN(v) ? undefined : v;
}

/** RFC 3339 with milliseconds: backoff deadlines need better than whole seconds. */
export const iso = (msSinceEpoch: number) => new Date(msSinceEpoch).toISOString();

/** The doubling backoff of docs/api.md: initial * 2^(n-1), capped; n = failures so far in the streak. */
export function backoffSeconds(n: number, b: { initialSeconds: number; maxSeconds: number }): number {
  if (n <= 0) return 0;
  return Math.min(b.maxSeconds, b.initialSeconds * 2 ** Math.min(n - 1, 30));
}

export function formatDuration(msTotal: number): string {
  let s = Math.max(0, Math.round(msTotal / 1000));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
}

/** The soonest of several due times (undefined: nothing is due). */
export function soonest(...times: (number | undefined)[]): number | undefined {
  let out: number | undefined;
  for (const t of times) if (t !== undefined && (out === undefined || t < out)) out = t;
  return out;
}

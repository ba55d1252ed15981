// The soak's fault schedule: pure, from a seed. The same seed, duration and rates give the same
// faults at the same times (the targets are picked at run time from what exists then, with the
// event's `pick`, so a replay hits the same kind of target at the same moment).

/** A small seeded PRNG (mulberry32): a function returning numbers in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const FAULT_KINDS = [
  'operator-kill',
  'leader-kill',
  'leader-term',
  'apiserver-restart',
  'pod-fail',
  'crash-loop',
  'driver-fail',
  'node-not-ready',
  'scale',
  'throttle-429',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** What each fault does; `duration` is how long it lasts (or how long the killed replica stays down). */
export const FAULT_HELP: Record<FaultKind, string> = {
  'operator-kill': 'SIGKILL of a random operator replica (leader or standby); restarted after `duration`',
  'leader-kill': 'SIGKILL of the leader: the standby takes over when the lease expires; restarted after `duration`',
  'leader-term': 'SIGTERM of the leader: it releases the lease, the standby takes over; restarted after `duration`',
  'apiserver-restart':
    "kube-apiserver stopped, down for `duration`, started again (hack/cluster-restart.sh); the operator's connections through the proxy cut as it goes",
  'pod-fail': 'a master or worker pod fails (sim.gaffer.dev/fail-after: 1s)',
  'crash-loop': 'a master or worker pod crash-loops (sim.gaffer.dev/crash-loop)',
  'driver-fail': 'a running driver pod fails with exit code 1',
  'node-not-ready': 'a node is NotReady (sim.gaffer.dev/not-ready) for `duration`',
  scale: "a standing cluster's spec.workers.replicas set to 1..5",
  'throttle-429': "a fraction (30-90%) of the operator's API requests refused with 429 by the proxy for `duration`",
};

/** Default relative rates. */
export const DEFAULT_WEIGHTS: Record<FaultKind, number> = {
  'operator-kill': 2,
  'leader-kill': 1,
  'leader-term': 1,
  'apiserver-restart': 1,
  'pod-fail': 4,
  'crash-loop': 2,
  'driver-fail': 2,
  'node-not-ready': 1.5,
  scale: 2,
  'throttle-429': 1.5,
};

/** Duration range of each kind, in ms ([0, 0]: instant). */
export const DURATIONS: Record<FaultKind, [number, number]> = {
  'operator-kill': [1_000, 10_000],
  'leader-kill': [1_000, 10_000],
  'leader-term': [1_000, 5_000],
  'apiserver-restart': [0, 5_000],
  'pod-fail': [0, 0],
  'crash-loop': [0, 0],
  'driver-fail': [0, 0],
  'node-not-ready': [20_000, 45_000],
  scale: [0, 0],
  'throttle-429': [10_000, 30_000],
};

/**
 * Kinds of which only one runs at a time (one node down, one storm, one API server restart), and
 * the pause after one before the next of its kind (an API server takes seconds to start; pods
 * lost with a node take nodeLossSeconds to be replaced).
 */
export const EXCLUSIVE: ReadonlyMap<FaultKind, number> = new Map<FaultKind, number>([
  ['apiserver-restart', 15_000],
  ['node-not-ready', 15_000],
  ['throttle-429', 5_000],
]);

export interface FaultEvent {
  /** ms from the start of the fault phase. */
  at: number;
  kind: FaultKind;
  /** ms; 0 for an instant fault. Never past the end of the fault phase. */
  duration: number;
  /** [0, 1): which target, among the candidates sorted by name. */
  pick: number;
  /** [0, 1): a magnitude (the 429 fraction, the replica count). */
  level: number;
}

export interface ScheduleOptions {
  seed: number;
  durationMs: number;
  /** Mean time between faults (exponentially distributed, at least minGapMs). */
  meanIntervalMs: number;
  minGapMs?: number;
  weights?: Partial<Record<FaultKind, number>>;
}

function weightedPick(r: number, kinds: FaultKind[], weights: Partial<Record<FaultKind, number>>): FaultKind {
  const total = kinds.reduce((s, k) => s + (weights[k] ?? 0), 0);
  let x = r * total;
  for (const k of kinds) {
    x -= weights[k] ?? 0;
    if (x < 0) return k;
  }
  return kinds[kinds.length - 1]!;
}

/** The faults of one run, in time order. */
export function schedule(o: ScheduleOptions): FaultEvent[] {
  const next = rng(o.seed);
  const weights = o.weights ?? DEFAULT_WEIGHTS;
  const kinds = FAULT_KINDS.filter((k) => (weights[k] ?? 0) > 0);
  const busyUntil = new Map<FaultKind, number>();
  const out: FaultEvent[] = [];
  let t = 0;
  for (;;) {
    t += Math.max(o.minGapMs ?? 1000, Math.round(-Math.log(1 - next()) * o.meanIntervalMs));
    if (t >= o.durationMs) return out;
    const free = kinds.filter((k) => !EXCLUSIVE.has(k) || (busyUntil.get(k) ?? 0) <= t);
    // Draw every number whether or not a kind is free, so one choice never shifts the others.
    const [rKind, rDur, pick, level] = [next(), next(), next(), next()];
    if (!free.length) continue;
    const kind = weightedPick(rKind, free, weights);
    const [lo, hi] = DURATIONS[kind];
    const duration = Math.min(Math.round(lo + rDur * (hi - lo)), o.durationMs - t);
    busyUntil.set(kind, t + duration + (EXCLUSIVE.get(kind) ?? 0));
    out.push({ at: t, kind, duration, pick, level });
  }
}

/** `pod-fail=3,scale=0` over the defaults; `only:` first to start from zero (`only:pod-fail,scale`). */
export function parseWeights(spec: string): Record<FaultKind, number> {
  const only = spec.startsWith('only:');
  const out: Record<FaultKind, number> = only
    ? (Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>)
    : { ...DEFAULT_WEIGHTS };
  for (const part of (only ? spec.slice(5) : spec).split(',').filter(Boolean)) {
    const [name, value] = part.split('=');
    if (!FAULT_KINDS.includes(name as FaultKind)) throw new Error(`--faults: unknown fault kind ${name}`);
    // `only:kind` keeps the kind's default rate; `kind` alone without `only:` is an error.
    let w = Number(value);
    if (value === undefined) w = only ? DEFAULT_WEIGHTS[name as FaultKind] : NaN;
    if (!Number.isFinite(w) || w < 0) throw new Error(`--faults: ${part}: expected ${name}=<weight ≥ 0>`);
    out[name as FaultKind] = w;
  }
  return out;
}

/** Picks from candidates sorted by key, with a [0, 1) number. */
export function pickOne<T>(items: T[], key: (t: T) => string, r: number): T | undefined {
  if (!items.length) return undefined;
  const sorted = [...items].sort((a, b) => key(a).localeCompare(key(b)));
  return sorted[Math.min(sorted.length - 1, Math.floor(r * sorted.length))];
}

// The soak's invariants, pure: over snapshots of the soak namespaces (pods, ComputeClusters,
// ComputeJobs as the API server listed them) and the faults credited to each object.
//
//   duplicate-pod     two live (not terminating) pods for one cluster's master, or for one worker index
//   orphan-pod        a live pod whose controller owner (by uid) does not exist, or that has none,
//                     for longer than the garbage collector's grace (ownerGraceMs)
//   running-drivers   more than one live, unfinished (Pending/Running) driver pod for one job
//   counter-decrease  a counter below its last value for the same object (uid): a cluster's
//                     status.master.restarts or status.recovery.podsReplaced, a job's
//                     status.attemptCount or status.failed
//   counter-jump      a counter above what the faults explain: since the object was created,
//                       podsReplaced  <= master/worker pods of the cluster disrupted
//                       master.restarts <= its master pods disrupted
//                       attemptCount  <= 1 + its driver pods disrupted + master pods of its cluster
//                                        disrupted from MASTER_EFFECT_MS before the job was created
//                       failed        <= attemptCount
//                     where "disrupted" is one credit per pod (uid) a fault hit: a pod made to fail
//                     or crash-loop, or seen on a node while that node was made NotReady or was
//                     not Ready (a node stays NotReady past its fault when the API server restarts
//                     meanwhile, and the scheduler may place pods on it before its taint). Credits
//                     only add up (a counter may lag them, never exceed them), so a restarted operator
//                     that counts one loss twice is caught, a slow one is not blamed. Reported again
//                     only when the excess grows (one loss counted twice is one violation).
//   two-leaders       both operator replicas report leading in one sampling round

export interface Owner {
  kind: string;
  name: string;
  uid: string;
}

export interface PodView {
  ns: string;
  name: string;
  uid: string;
  labels: Record<string, string>;
  owner?: Owner;
  terminating: boolean;
  phase?: string;
  node?: string;
  /** It carries a failure annotation already (sim.gaffer.dev/fail-after or crash-loop). */
  faulted: boolean;
  /** Kubernetes is taking it away (a DisruptionTarget condition: the taint manager, an eviction, preemption). */
  disrupted: boolean;
  /** metadata.creationTimestamp, epoch ms. */
  created?: number;
}

/**
 * Whether a node's fault hit the pod: the node is down now (`readySince` undefined), or it was
 * and the pod was made before it came back. A pod placed on it after that was never on a down
 * node; credited, it would spend its one credit (CounterCheck) on nothing, and a real loss of
 * it later would read as a counter jump (seen: a replacement master placed a second after its
 * node's fault ended, lost to the next fault on that node).
 */
export const hitByNode = (p: Pick<PodView, 'created'>, readySince: number | undefined): boolean =>
  readySince === undefined || (p.created ?? -Infinity) < readySince;

export interface ClusterView {
  ns: string;
  name: string;
  uid: string;
  /** The job that owns it (an ephemeral cluster). */
  ownerJob?: string;
  terminating: boolean;
  generation: number;
  observedGeneration?: number;
  ready: boolean;
  masterRestarts: number;
  podsReplaced: number;
  /** status.recovery.lastReason and lastFailureTime: what the operator counted last (for a violation's detail). */
  lastCounted?: string;
}

export interface JobView {
  ns: string;
  name: string;
  uid: string;
  clusterName: string;
  phase?: string;
  reason?: string;
  attemptCount: number;
  failed: number;
  /** metadata.creationTimestamp, ms. */
  created: number;
  /** The attempts kept in status: index, how each ended (for the reports). */
  attempts: string;
}

export interface Snapshot {
  at: number;
  /**
   * Nodes whose pods are hit: NotReady (undefined; a fault's label may be off while the node
   * still is), or Ready again since the time given while still tainted to evict (hitByNode).
   */
  downNodes?: ReadonlyMap<string, number | undefined>;
  pods: PodView[];
  clusters: ClusterView[];
  jobs: JobView[];
}

export interface Violation {
  at: number;
  kind: string;
  object: string;
  detail: string;
  /** The same violation seen again in a later snapshot has the same key (reported once). */
  key?: string;
  /** Filled in for the report: deletions of the object's pods shortly before (from the audit log). */
  deletions?: string[];
}

const L = {
  cluster: 'compute.gaffer.dev/cluster',
  role: 'compute.gaffer.dev/role',
  index: 'compute.gaffer.dev/worker-index',
  job: 'compute.gaffer.dev/job',
};

const FAULT_ANNOTATIONS = ['sim.gaffer.dev/fail-after', 'sim.gaffer.dev/crash-loop'];
const cond = (o: any, type: string) => o?.status?.conditions?.find((c: any) => c.type === type);

export function podView(p: any): PodView {
  const ref = (p.metadata.ownerReferences ?? []).find((r: any) => r.controller);
  return {
    ns: p.metadata.namespace,
    name: p.metadata.name,
    uid: p.metadata.uid,
    labels: p.metadata.labels ?? {},
    owner: ref && { kind: ref.kind, name: ref.name, uid: ref.uid },
    terminating: !!p.metadata.deletionTimestamp,
    phase: p.status?.phase,
    node: p.spec?.nodeName,
    faulted: Object.keys(p.metadata.annotations ?? {}).some((a) => FAULT_ANNOTATIONS.includes(a)),
    disrupted: cond(p, 'DisruptionTarget')?.status === 'True',
    created: p.metadata.creationTimestamp ? Date.parse(p.metadata.creationTimestamp) : undefined,
  };
}

export function clusterView(c: any): ClusterView {
  const ready = cond(c, 'Ready');
  return {
    ns: c.metadata.namespace,
    name: c.metadata.name,
    uid: c.metadata.uid,
    ownerJob: (c.metadata.ownerReferences ?? []).find((r: any) => r.controller && r.kind === 'ComputeJob')?.uid,
    terminating: !!c.metadata.deletionTimestamp,
    generation: c.metadata.generation ?? 0,
    observedGeneration: c.status?.observedGeneration,
    ready: ready?.status === 'True' && ready.observedGeneration === c.metadata.generation,
    masterRestarts: c.status?.master?.restarts ?? 0,
    podsReplaced: c.status?.recovery?.podsReplaced ?? 0,
    lastCounted: c.status?.recovery?.lastReason
      ? `${c.status.recovery.lastReason} at ${c.status.recovery.lastFailureTime ?? '?'}`
      : undefined,
  };
}

export function jobView(j: any): JobView {
  return {
    ns: j.metadata.namespace,
    name: j.metadata.name,
    uid: j.metadata.uid,
    clusterName: j.status?.clusterName ?? j.spec?.clusterRef?.name ?? j.metadata.name,
    phase: j.status?.phase,
    reason: j.status?.reason,
    attemptCount: j.status?.attemptCount ?? 0,
    failed: j.status?.failed ?? 0,
    created: Date.parse(j.metadata.creationTimestamp ?? '') || 0,
    attempts: (j.status?.attempts ?? [])
      .map((a: any) => `${a.index}: ${a.reason ?? 'running'}${a.message ? ` (${a.message})` : ''}`)
      .join('; '),
  };
}

export const isFinished = (j: JobView) => j.phase === 'Succeeded' || j.phase === 'Failed';
const isLive = (p: PodView) => !p.terminating;
const unfinished = (p: PodView) => p.phase !== 'Succeeded' && p.phase !== 'Failed';
const ref = (ns: string, name: string) => `${ns}/${name}`;

function groupBy<T>(items: T[], key: (t: T) => string | undefined): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const i of items) {
    const k = key(i);
    if (k !== undefined) m.set(k, [...(m.get(k) ?? []), i]);
  }
  return m;
}

/** duplicate-pod and running-drivers: both within one pods LIST (one resourceVersion), so exact. */
export function checkPods(s: Snapshot): Violation[] {
  const out: Violation[] = [];
  const live = s.pods.filter(isLive);
  const slot = (p: PodView) => {
    const role = p.labels[L.role];
    if (role === 'master') return `${p.ns}/${p.labels[L.cluster]} master`;
    if (role === 'worker') return `${p.ns}/${p.labels[L.cluster]} worker ${p.labels[L.index]}`;
    return undefined;
  };
  for (const [k, pods] of groupBy(live, slot))
    if (pods.length > 1)
      out.push({ at: s.at, kind: 'duplicate-pod', object: k, detail: `live pods ${names(pods)}`, key: uids(pods) });
  const driver = (p: PodView) =>
    p.labels[L.role] === 'driver' && unfinished(p) ? ref(p.ns, p.labels[L.job]!) : undefined;
  for (const [k, pods] of groupBy(live, driver))
    if (pods.length > 1)
      out.push({
        at: s.at,
        kind: 'running-drivers',
        object: `job ${k}`,
        detail: `unfinished drivers ${names(pods)}`,
        key: uids(pods),
      });
  return out;
}

const uids = (pods: PodView[]) =>
  pods
    .map((p) => p.uid)
    .sort()
    .join(',');
const names = (pods: PodView[]) =>
  pods
    .map((p) => `${p.name} (${p.phase ?? 'no phase'}${p.node ? ` on ${p.node}` : ''})`)
    .sort()
    .join(', ');

/**
 * orphan-pod: the owners are listed after the pods, so an owner deleted in between, or one whose
 * pods the garbage collector has not removed yet, shows as missing for a while: only a pod missing
 * its owner for longer than `graceMs` (in consecutive snapshots) is a violation, once. The grace
 * starts again when a control-plane component comes back (kube-controller-manager's garbage
 * collector rebuilds its graph after an API server restart: seen to take over a minute).
 */
export class OrphanCheck {
  private readonly since = new Map<string, number>();
  private readonly reported = new Set<string>();
  private restartedAt = -Infinity;
  constructor(readonly graceMs: number) {}

  /** A control-plane component (the API server, the controller manager) is back at `at`. */
  controlPlaneRestarted(at: number): void {
    this.restartedAt = Math.max(this.restartedAt, at);
  }

  observe(s: Snapshot): Violation[] {
    const owners = new Set([...s.clusters.map((c) => c.uid), ...s.jobs.map((j) => j.uid)]);
    const out: Violation[] = [];
    const seen = new Set<string>();
    for (const p of s.pods.filter(isLive)) {
      if (p.owner && owners.has(p.owner.uid)) continue;
      seen.add(p.uid);
      const since = this.since.get(p.uid) ?? s.at;
      this.since.set(p.uid, since);
      if (s.at - Math.max(since, this.restartedAt) <= this.graceMs || this.reported.has(p.uid)) continue;
      this.reported.add(p.uid);
      const what = p.owner ? `its owner ${p.owner.kind} ${p.owner.name} (uid ${p.owner.uid}) is gone` : 'no owner';
      out.push({
        at: s.at,
        kind: 'orphan-pod',
        object: `pod ${ref(p.ns, p.name)}`,
        detail: `${what} for ${Math.round((s.at - since) / 1000)} s`,
      });
    }
    for (const uid of this.since.keys()) if (!seen.has(uid)) this.since.delete(uid);
    return out;
  }
}

export type Counter = 'podsReplaced' | 'masterRestarts' | 'attemptCount';

/** The counters one disrupted pod may raise by one: its cluster's, or its job's (a driver). */
export function creditsFor(pod: PodView): { uid: string; counter: Counter }[] {
  const role = pod.labels[L.role];
  if (!pod.owner) return [];
  if (role === 'driver') return [{ uid: pod.owner.uid, counter: 'attemptCount' }];
  if (role === 'worker') return [{ uid: pod.owner.uid, counter: 'podsReplaced' }];
  if (role === 'master')
    return [
      { uid: pod.owner.uid, counter: 'podsReplaced' },
      { uid: pod.owner.uid, counter: 'masterRestarts' },
    ];
  return [];
}

/**
 * How long after a master is disrupted its loss may still end a job's attempt: the crash-loop
 * detection (3 restarts, seconds each), the node-loss delay (15 s) and the backoff (at most 8 s)
 * fit well within it. A job created up to this long after a master disruption may lose an attempt
 * to it.
 */
export const MASTER_EFFECT_MS = 90_000;

interface Last {
  masterRestarts: number;
  podsReplaced: number;
  attemptCount: number;
  failed: number;
}

/** counter-decrease and counter-jump, over successive snapshots and the credits granted so far. */
export class CounterCheck {
  private readonly credits = new Map<string, number>();
  /** Pods already credited (one pod explains one replacement, whatever hit it). */
  private readonly creditedPods = new Set<string>();
  private readonly last = new Map<string, Last>();
  /** The excess over the bound last reported, by uid and field: reported again only when it grows. */
  private readonly reported = new Map<string, number>();

  /** Master disruptions by cluster (namespace/name), when: each may end the attempts of its jobs. */
  private readonly masterHits = new Map<string, number[]>();

  /** The last master hit recorded per master pod uid. */
  private readonly lastMasterHit = new Map<string, number>();

  /**
   * Credits what a disrupted pod explains; a pod is credited once. A master's hit is recorded
   * again when it comes MASTER_EFFECT_MS after the last one recorded for it: a master hit once
   * without dying (a short NotReady) and killed later ends the attempts running then.
   */
  disrupted(pod: PodView, at: number): void {
    if (pod.labels[L.role] === 'master' && at - (this.lastMasterHit.get(pod.uid) ?? -Infinity) > MASTER_EFFECT_MS) {
      this.lastMasterHit.set(pod.uid, at);
      const k = ref(pod.ns, pod.labels[L.cluster]!);
      this.masterHits.set(k, [...(this.masterHits.get(k) ?? []), at]);
    }
    if (this.creditedPods.has(pod.uid)) return;
    this.creditedPods.add(pod.uid);
    for (const c of creditsFor(pod)) this.add(c.uid, c.counter, 1);
  }

  /** Attempts a job may have started: its first, one per driver hit, one per master hit of its cluster. */
  attemptBound(j: JobView): number {
    const masters = (this.masterHits.get(ref(j.ns, j.clusterName)) ?? []).filter(
      (t) => t >= j.created - MASTER_EFFECT_MS,
    );
    return 1 + this.credit(j.uid, 'attemptCount') + masters.length;
  }

  add(uid: string, counter: Counter, n: number): void {
    const k = `${uid}/${counter}`;
    this.credits.set(k, (this.credits.get(k) ?? 0) + n);
  }

  credit(uid: string, counter: Counter): number {
    return this.credits.get(`${uid}/${counter}`) ?? 0;
  }

  observe(s: Snapshot): Violation[] {
    const out: Violation[] = [];
    for (const c of s.clusters) {
      const obj = `computecluster ${ref(c.ns, c.name)}`;
      const now = { masterRestarts: c.masterRestarts, podsReplaced: c.podsReplaced, attemptCount: 0, failed: 0 };
      out.push(...this.compare(s.at, obj, c.uid, now));
      out.push(
        ...this.bound(
          s.at,
          obj,
          c.uid,
          'status.recovery.podsReplaced',
          c.podsReplaced,
          this.credit(c.uid, 'podsReplaced'),
          c.lastCounted && `last counted: ${c.lastCounted}`,
        ),
      );
      out.push(
        ...this.bound(
          s.at,
          obj,
          c.uid,
          'status.master.restarts',
          c.masterRestarts,
          this.credit(c.uid, 'masterRestarts'),
          c.lastCounted && `last counted: ${c.lastCounted}`,
        ),
      );
    }
    for (const j of s.jobs) {
      const obj = `computejob ${ref(j.ns, j.name)}`;
      const now = { masterRestarts: 0, podsReplaced: 0, attemptCount: j.attemptCount, failed: j.failed };
      out.push(...this.compare(s.at, obj, j.uid, now));
      out.push(
        ...this.bound(
          s.at,
          obj,
          j.uid,
          'status.attemptCount',
          j.attemptCount,
          this.attemptBound(j),
          j.attempts && `attempts: ${j.attempts}`,
        ),
      );
      out.push(...this.bound(s.at, obj, j.uid, 'status.failed', j.failed, j.attemptCount));
    }
    return out;
  }

  private compare(at: number, obj: string, uid: string, now: Last): Violation[] {
    const before = this.last.get(uid);
    this.last.set(uid, now);
    if (!before) return [];
    const out: Violation[] = [];
    for (const k of Object.keys(now) as (keyof Last)[])
      if (now[k] < before[k])
        out.push({ at, kind: 'counter-decrease', object: obj, detail: `${k} ${before[k]} -> ${now[k]}` });
    return out;
  }

  private bound(
    at: number,
    obj: string,
    uid: string,
    field: string,
    value: number,
    max: number,
    more: string | undefined = '',
  ): Violation[] {
    const key = `${uid}/${field}`;
    if (value - max <= (this.reported.get(key) ?? 0)) return [];
    this.reported.set(key, value - max);
    const detail = `${field} is ${value}, the faults explain at most ${max}${more ? `; ${more}` : ''}`;
    return [{ at, kind: 'counter-jump', object: obj, detail }];
  }
}

/** two-leaders: the replicas' leader_election_master_status read in one round. */
export function checkLeaders(at: number, leading: { name: string; leads: boolean }[]): Violation[] {
  const l = leading.filter((x) => x.leads);
  return l.length > 1
    ? [{ at, kind: 'two-leaders', object: 'operator', detail: `leading: ${l.map((x) => x.name).join(', ')}` }]
    : [];
}

/**
 * After the faults stop: when each standing cluster (not a job's) became Ready and stayed so,
 * and when each job finished. Converged when all are at once.
 */
export class Convergence {
  /** Object -> since when it has been done (ms), or undefined while it is not. */
  readonly doneSince = new Map<string, number | undefined>();
  convergedAt: number | undefined;

  constructor(readonly stoppedAt: number) {}

  observe(s: Snapshot): boolean {
    const items: [string, boolean][] = [
      ...s.clusters
        .filter((c) => !c.ownerJob && !c.terminating)
        .map((c): [string, boolean] => [`computecluster ${ref(c.ns, c.name)}`, c.ready]),
      ...s.jobs.map((j): [string, boolean] => [`computejob ${ref(j.ns, j.name)}`, isFinished(j)]),
    ];
    for (const [k, done] of items) {
      const prev = this.doneSince.get(k);
      this.doneSince.set(k, done ? (prev ?? s.at) : undefined);
    }
    const all = items.every(([, d]) => d);
    this.convergedAt = all ? (this.convergedAt ?? s.at) : undefined;
    return all;
  }

  /** Seconds after the faults stopped at which each kind of object was done (0: already). */
  seconds(prefix: string): number[] {
    return [...this.doneSince]
      .filter(([k, v]) => k.startsWith(prefix) && v !== undefined)
      .map(([, v]) => Math.max(0, (v! - this.stoppedAt) / 1000));
  }

  pending(): string[] {
    return [...this.doneSince].filter(([, v]) => v === undefined).map(([k]) => k);
  }
}

/** p50 and max of a list (seconds, one decimal). */
export function summary(xs: number[]): { n: number; p50: number; max: number } {
  if (!xs.length) return { n: 0, p50: 0, max: 0 };
  const s = [...xs].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 10) / 10;
  return { n: s.length, p50: r(s[Math.floor((s.length - 1) / 2)]!), max: r(s[s.length - 1]!) };
}

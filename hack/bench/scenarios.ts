// The scenarios, each run per system on the same control plane: scale (N clusters of M workers),
// churn (10% of all workers fail at once) and a job storm; plus Gaffer's steady state and the
// operator's memory curve.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { Api, Tracker, pool, type Auth } from './api.ts';
import type { MemoryCgroup } from './cgroup.ts';
import { RUN, createNamespace, deleteNamespace } from './control-plane.ts';
import {
  FAIL_AFTER,
  batchJob,
  ccView,
  cjView,
  computeCluster,
  computeJob,
  gafferObjects,
  jobView,
  paths,
  pod,
  podView,
  replicaSet,
  rsView,
  type CrView,
  type PodView,
} from './objects.ts';
import {
  Operator,
  diff,
  externalMiB,
  heapMiB,
  heapSnapshot,
  heapTotalMiB,
  parseMetrics,
  requestsBy,
  type Sample,
} from './operator.ts';

export type System = 'raw' | 'replicaset' | 'gaffer';
export const SYSTEMS: System[] = ['raw', 'replicaset', 'gaffer'];
export const CONCURRENCY = 32;

export interface SystemResult {
  [key: string]: unknown;
  createdSeconds?: number;
  runningSeconds?: number;
  readySeconds?: number;
  pods?: number;
  podsPerSecond?: number;
  apiRequests?: Record<string, number>;
  apiRequestsPerPod?: Record<string, number>;
  statusWritesPerObject?: number;
  peakRssMiB?: number;
  heapUsedMiB?: number;
  cpuSeconds?: number;
  probeGetMs?: Latency;
}
export interface Latency {
  n: number;
  p50: number;
  p99: number;
}
export interface ScenarioResult {
  scenario: Record<string, unknown>;
  systems: Partial<Record<System, SystemResult>>;
}

export interface Env {
  admin: Auth;
  operatorKubeconfig: string;
  operatorAuth: Auth;
  probeAuth?: Auth;
  ports: { health: number; metrics: number };
  /** Extra operator flags, Node flags for the operator process, and its memory cgroup. */
  operator: { args: string[]; nodeOptions: string; cgroup?: MemoryCgroup; memoryLimit?: string };
  timeoutMs: number;
  log: (s: string) => void;
}

const secs = (a: number, b: number) => Math.round((b - a) / 10) / 100;
const round = (v: number, d = 2) => Math.round(v * 10 ** d) / 10 ** d;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const perPod = (counts: Record<string, number>, pods: number) =>
  Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, round(v / pods, 3)]));

export function percentiles(ms: number[]): Latency {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => round(s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0, 1);
  return { n: s.length, p50: at(0.5), p99: at(0.99) };
}

/** GETs a ConfigMap as the probe ServiceAccount, one at a time, until stop() (or n requests). */
export function probe(
  auth: Auth,
  ns: string,
  n = Infinity,
): { stop(): Promise<Latency>; finished(): Promise<Latency> } {
  const api = new Api(auth, 1);
  const ms: number[] = [];
  let stopped = false;
  const done = (async () => {
    while (!stopped && ms.length < n) {
      const t = performance.now();
      await api.raw('GET', `/api/v1/namespaces/${ns}/configmaps/bench-probe`);
      ms.push(performance.now() - t);
      await sleep(20);
    }
  })();
  const result = async () => {
    await done;
    api.agent.destroy();
    return percentiles(ms);
  };
  return {
    stop() {
      stopped = true;
      return result();
    },
    finished: result,
  };
}

/** kube-controller-manager's rest_client_requests_total by method (all its controllers). */
export async function kcmRequests(): Promise<Map<string, number>> {
  const cmd = readFileSync(join(RUN, 'kube-controller-manager.cmd'), 'utf8');
  const port = Number(/--secure-port=(\d+)/.exec(cmd)?.[1]);
  const text = await new Promise<string>((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/metrics', rejectUnauthorized: false, timeout: 10_000 },
      (res) => {
        let b = '';
        res.on('data', (c) => (b += c));
        res.on('end', () => resolve(b));
      },
    );
    req.on('error', reject);
    req.end();
  });
  const m = new Map<string, number>();
  for (const s of parseMetrics(text))
    if (s.name === 'rest_client_requests_total') {
      const k = s.labels.method!.toLowerCase();
      m.set(k, (m.get(k) ?? 0) + s.value);
    }
  return m;
}

/** One system's run: its namespace, trackers, operator (Gaffer), and cleanup. */
export class Run {
  readonly ns: string;
  readonly driver: Api; // the benchmark's own requests (objects for controllers, annotations): not counted
  readonly client: Api; // the raw anchor's requests: counted
  readonly p: ReturnType<typeof paths>;
  pods!: Tracker<PodView>;
  crs?: Tracker<CrView>;
  op?: Operator;
  /** The raw anchor's pods by name, as it created them (it recreates the missing ones). */
  readonly rawPods = new Map<string, object>();
  private watchApi: Api;

  constructor(
    readonly env: Env,
    readonly system: System,
    tag: string,
  ) {
    this.ns = `bench-${tag}-${system}-${randomBytes(2).toString('hex')}`;
    this.driver = new Api(env.admin, CONCURRENCY);
    this.client = new Api(env.operatorAuth, CONCURRENCY);
    this.watchApi = new Api(env.admin, 8);
    this.p = paths(this.ns);
  }

  async start(crPath?: string, view?: (o: any) => CrView): Promise<void> {
    await createNamespace(this.driver, this.ns);
    this.pods = new Tracker(this.watchApi, this.p.pods, podView);
    if (crPath && view) this.crs = new Tracker(this.watchApi, crPath, view);
    await Promise.all([this.pods.ready, this.crs?.ready]);
    if (this.system === 'gaffer') {
      this.op = new Operator(
        this.env.operatorKubeconfig,
        [this.ns],
        this.env.ports.health,
        this.env.ports.metrics,
        this.env.operator,
      );
      await this.op.waitReady();
      await sleep(1000); // informers synced and initial lists done
    }
  }

  async cleanup(): Promise<void> {
    await this.op?.stop();
    this.pods?.stop();
    this.crs?.stop();
    await deleteNamespace(this.driver, this.ns);
    for (const a of [this.driver, this.client, this.watchApi]) a.agent.destroy();
  }

  livePods = (role?: string) =>
    [...this.pods.objects.values()].filter((p) => !p.deleting && (!role || p.role === role));

  async createAll(path: string, objs: object[], api = this.driver): Promise<void> {
    await pool(objs, CONCURRENCY, async (o) => {
      await api.req('POST', path, o);
    });
  }
}

/** What the operator did between two snapshots. */
async function operatorFigures(op: Operator, before: Sample[], cpuBefore: number, pods: number, objects: number) {
  const after = await op.metrics();
  const byVerb = diff(
    requestsBy(after, (l) => l.verb!),
    requestsBy(before, (l) => l.verb!),
  );
  const byVerbResource = diff(
    requestsBy(after, (l) => `${l.verb} ${l.resource}`),
    requestsBy(before, (l) => `${l.verb} ${l.resource}`),
  );
  const statusWrites = Object.entries(byVerbResource)
    .filter(([k]) => k.endsWith('/status') && !k.startsWith('get') && !k.startsWith('list'))
    .reduce((a, [, v]) => a + v, 0);
  const proc = op.proc();
  return {
    apiRequests: byVerb,
    apiRequestsPerPod: perPod(byVerb, pods),
    apiRequestsByResource: byVerbResource,
    statusWritesPerObject: round(statusWrites / objects),
    peakRssMiB: round(Math.max(op.peakRssMiB, proc?.hwmMiB ?? 0), 1),
    rssMiB: round(proc?.rssMiB ?? 0, 1),
    heapUsedMiB: round(heapMiB(after), 1),
    peakHeapUsedMiB: round(Math.max(op.peakHeapMiB, heapMiB(after)), 1),
    cpuSeconds: round((proc?.cpuSeconds ?? 0) - cpuBefore),
  };
}

const crPathFor = (r: Run, kind: 'clusters' | 'jobs'): [string, (o: any) => CrView] | [] => {
  if (r.system === 'raw') return [];
  if (kind === 'clusters') return r.system === 'gaffer' ? [r.p.clusters, ccView] : [r.p.replicasets, rsView];
  return r.system === 'gaffer' ? [r.p.computejobs, cjView] : [r.p.jobs, jobView];
};

export interface ScaleOptions {
  clusters: number;
  workers: number;
  churn: boolean;
  steadySeconds: number;
  idleProbe?: Latency;
  probeNs?: string;
}

/**
 * Scale: N clusters of M workers and a master each (raw: N×(M+1) pods; ReplicaSet: N of M+1
 * replicas; Gaffer: N ComputeClusters). Then, if asked, churn and (Gaffer) the steady state.
 */
export async function runScale(
  env: Env,
  system: System,
  o: ScaleOptions,
): Promise<{ scale: SystemResult; churn?: SystemResult; steady?: Record<string, unknown> }> {
  const r = new Run(env, system, 'scale');
  const total = o.clusters * (o.workers + 1);
  const [crPath, view] = crPathFor(r, 'clusters');
  try {
    await r.start(crPath, view);
    const before = r.op ? await r.op.metrics() : [];
    const cpu0 = r.op?.proc()?.cpuSeconds ?? 0;
    r.op?.resetPeaks();
    const kcm0 = system === 'replicaset' ? await kcmRequests() : undefined;
    const pr = env.probeAuth && o.probeNs ? probe(env.probeAuth, o.probeNs) : undefined;
    r.driver.resetCounts();
    const t0 = Date.now();
    const names = Array.from({ length: o.clusters }, (_, i) => `c${i}`);
    if (system === 'raw') {
      // Gaffer's own pods and Services (without owners): the anchor creates the same objects.
      const objs = names.map((c) => gafferObjects(c, r.ns, o.workers));
      const pods = objs.flatMap((x) => x.pods);
      for (const p of pods) r.rawPods.set((p as { metadata: { name: string } }).metadata.name, p);
      void (async () => {
        await r.createAll(
          r.p.services,
          objs.flatMap((x) => x.services),
          r.client,
        );
        await r.createAll(r.p.pods, pods, r.client);
      })().catch((e) => env.log(`raw create: ${e}`));
    } else if (system === 'replicaset') {
      void r.createAll(
        r.p.replicasets,
        names.map((c) => replicaSet(c, o.workers + 1)),
      );
    } else {
      void r.createAll(
        r.p.clusters,
        names.map((c) => computeCluster(c, o.workers)),
      );
    }
    const created = await r.pods.until('all pods created', () => r.livePods().length >= total, env.timeoutMs);
    const running = await r.pods.until(
      'all pods Running',
      () => r.livePods().filter((p) => p.phase === 'Running').length >= total,
      env.timeoutMs,
    );
    let ready: number | undefined;
    if (r.crs)
      ready = await r.crs.until(
        'every object Ready',
        (objs) =>
          objs.length === o.clusters &&
          objs.every((c) => c.ready && c.current && (system !== 'gaffer' || c.readyReplicas === o.workers)),
        env.timeoutMs,
      );
    const end = ready ?? running;
    const probeGetMs = await pr?.stop();
    const res: SystemResult = {
      createdSeconds: secs(t0, created),
      runningSeconds: secs(t0, running),
      ...(ready ? { readySeconds: secs(t0, ready) } : {}),
      pods: total,
      podsPerSecond: round(total / ((end - t0) / 1000), 1),
    };
    if (probeGetMs) res.probeGetMs = probeGetMs;
    if (system === 'raw') {
      res.apiRequests = r.client.countsObject();
      res.apiRequestsPerPod = perPod(res.apiRequests, total);
    } else if (system === 'replicaset') {
      await sleep(1000);
      res.apiRequests = r.driver.countsObject();
      res.apiRequestsPerPod = perPod(res.apiRequests, total);
      res.kcmRequests = diff(await kcmRequests(), kcm0!);
      res.kcmRequestsPerPod = perPod(res.kcmRequests as Record<string, number>, total);
      res.statusWritesPerObject = round([...r.crs!.modified.values()].reduce((a, b) => a + b, 0) / o.clusters);
      res.statusWritesNote = 'ReplicaSet MODIFIED watch events per ReplicaSet';
    } else {
      Object.assign(res, await operatorFigures(r.op!, before, cpu0, total, o.clusters));
    }
    const out: { scale: SystemResult; churn?: SystemResult; steady?: Record<string, unknown> } = { scale: res };
    // A later phase that fails is reported as such; it does not lose the figures measured so far.
    const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T | { error: string }> =>
      fn().catch((e: unknown) => {
        env.log(`${name}: ${system} failed: ${e}`);
        return { error: String(e) };
      });
    if (o.churn) out.churn = (await phase('churn', () => churn(r, o))) as SystemResult;
    if (system === 'gaffer' && o.steadySeconds > 0)
      out.steady = await phase('steady state', () => steady(r, o.steadySeconds));
    return out;
  } finally {
    await r.cleanup();
  }
}

/** 10% of all workers fail at once (KWOK fail-after); time until every cluster is Ready again. */
async function churn(r: Run, o: ScaleOptions): Promise<SystemResult> {
  const { env, system } = r;
  const workers = [...r.pods.objects.entries()].filter(([, p]) => !p.deleting && p.role === 'worker');
  const count = Math.max(1, Math.round(workers.length * 0.1));
  // Spread across clusters: every 10th worker.
  const step = workers.length / count;
  const victims = Array.from({ length: count }, (_, i) => workers[Math.floor(i * step)]!);
  const victimUids = new Set(victims.map(([, p]) => p.uid));
  const failed = new Set<string>();
  r.pods.hook = (type, obj) => {
    if (victimUids.has(obj.metadata.uid) && (type === 'DELETED' || obj.status?.phase === 'Failed'))
      failed.add(obj.metadata.uid);
  };
  r.client.resetCounts();
  const before = r.op ? await r.op.metrics() : [];
  const cpu0 = r.op?.proc()?.cpuSeconds ?? 0;
  r.op?.resetPeaks();
  const kcm0 = system === 'replicaset' ? await kcmRequests() : undefined;
  // The raw anchor is its own controller: it deletes failed pods and creates missing ones.
  let stopRaw = false;
  const deleted = new Set<string>();
  const rawLoop =
    system === 'raw'
      ? (async () => {
          while (!stopRaw) {
            const failedPods = [...r.pods.objects.entries()].filter(
              ([, p]) => p.phase === 'Failed' && !p.deleting && !deleted.has(p.uid),
            );
            for (const [, p] of failedPods) deleted.add(p.uid);
            await pool(failedPods, CONCURRENCY, async ([name]) => {
              await r.client.req('DELETE', `${r.p.pods}/${name}?gracePeriodSeconds=0`, undefined, [404]);
            });
            const missing = [...r.rawPods].filter(([name]) => !r.pods.objects.has(name));
            await pool(missing, CONCURRENCY, async ([, body]) => {
              await r.client.req('POST', r.p.pods, body, [409]);
            });
            await sleep(100);
          }
        })()
      : undefined;
  const t0 = Date.now();
  await pool(victims, CONCURRENCY, async ([name]) => {
    await r.driver.req(
      'PATCH',
      `${r.p.pods}/${name}`,
      { metadata: { annotations: { [FAIL_AFTER]: '1ms' } } },
      [],
      'application/merge-patch+json',
    );
  });
  const total = o.clusters * (o.workers + 1);
  const allFailed = () => failed.size >= victimUids.size;
  let ready: number;
  if (r.crs) {
    ready = await r.crs.until(
      'every object Ready again',
      (objs) =>
        allFailed() &&
        objs.every((c) => c.ready && c.current && (system !== 'gaffer' || c.readyReplicas === o.workers)),
      env.timeoutMs,
    );
  } else {
    ready = await r.pods.until(
      'all pods Ready again',
      (pods) => allFailed() && pods.filter((p) => !p.deleting && p.ready && p.phase === 'Running').length >= total,
      env.timeoutMs,
    );
  }
  stopRaw = true;
  await rawLoop;
  r.pods.hook = undefined;
  const res: SystemResult = { failedWorkers: count, readySeconds: secs(t0, ready) };
  if (system === 'raw') {
    res.apiRequests = r.client.countsObject();
    res.apiRequestsPerPod = perPod(res.apiRequests, count);
  } else if (system === 'replicaset') {
    res.kcmRequests = diff(await kcmRequests(), kcm0!);
    res.kcmRequestsPerPod = perPod(res.kcmRequests as Record<string, number>, count);
  } else Object.assign(res, await operatorFigures(r.op!, before, cpu0, count, o.clusters));
  return res;
}

/** Gaffer after convergence: LISTs and writes by the operator over a window. */
async function steady(r: Run, seconds: number): Promise<Record<string, unknown>> {
  const op = r.op!;
  r.env.log(`steady state: watching the operator for ${seconds}s`);
  const key = (l: Record<string, string>) => `${l.verb} ${l.resource}`;
  const before = requestsBy(await op.metrics(), key);
  const cpu0 = op.proc()?.cpuSeconds ?? 0;
  await sleep(seconds * 1000);
  const byResource = diff(requestsBy(await op.metrics(), key), before);
  const d: Record<string, number> = {};
  for (const [k, v] of Object.entries(byResource)) d[k.split(' ')[0]!] = (d[k.split(' ')[0]!] ?? 0) + v;
  const writes = ['create', 'update', 'patch', 'delete', 'deletecollection'].reduce((a, v) => a + (d[v] ?? 0), 0);
  return {
    seconds,
    lists: d.list ?? 0,
    writes,
    requests: byResource,
    cpuSeconds: round((op.proc()?.cpuSeconds ?? 0) - cpu0),
    rssMiB: round(op.proc()?.rssMiB ?? 0, 1),
  };
}

export interface JobOptions {
  jobs: number;
  jobClusters: number;
  completeAfter: string;
}

/**
 * Job storm: J jobs (raw: driver pods; kube-controller-manager: batch/v1 Jobs; Gaffer:
 * ComputeJobs on existing clusters).
 */
export async function runJobs(env: Env, system: System, o: JobOptions): Promise<SystemResult> {
  const r = new Run(env, system, 'jobs');
  const [crPath, view] = crPathFor(r, 'jobs');
  try {
    await r.start(crPath, view);
    if (system === 'gaffer') {
      const cc = new Tracker(new Api(env.admin, 2), r.p.clusters, ccView);
      await cc.ready;
      await r.createAll(
        r.p.clusters,
        Array.from({ length: o.jobClusters }, (_, i) => computeCluster(`c${i}`, 1)),
      );
      await cc.until(
        'job clusters Ready',
        (cs) => cs.length === o.jobClusters && cs.every((c) => c.ready),
        env.timeoutMs,
      );
      cc.stop();
    }
    const drivers = () => r.livePods().filter((p) => system !== 'gaffer' || p.role === 'driver');
    const before = r.op ? await r.op.metrics() : [];
    const cpu0 = r.op?.proc()?.cpuSeconds ?? 0;
    r.op?.resetPeaks();
    const kcm0 = system === 'replicaset' ? await kcmRequests() : undefined;
    const names = Array.from({ length: o.jobs }, (_, i) => `j${i}`);
    r.driver.resetCounts();
    const t0 = Date.now();
    if (system === 'raw')
      void r.createAll(
        r.p.pods,
        names.map((n) =>
          pod(n, { 'bench.gaffer.dev/role': 'driver' }, { 'sim.gaffer.dev/complete-after': o.completeAfter }, true),
        ),
        r.client,
      );
    else if (system === 'replicaset')
      void r.createAll(
        r.p.jobs,
        names.map((n) => batchJob(n, o.completeAfter)),
      );
    else
      void r.createAll(
        r.p.computejobs,
        names.map((n, i) => computeJob(n, `c${i % o.jobClusters}`, o.completeAfter)),
      );
    const created = await r.pods.until('all drivers created', () => drivers().length >= o.jobs, env.timeoutMs);
    const running = await r.pods.until(
      'all drivers ran',
      () => drivers().filter((p) => p.phase === 'Running' || p.phase === 'Succeeded').length >= o.jobs,
      env.timeoutMs,
    );
    const done = r.crs
      ? await r.crs.until('all jobs done', (js) => js.length === o.jobs && js.every((j) => j.ready), env.timeoutMs)
      : await r.pods.until(
          'all drivers Succeeded',
          () => drivers().filter((p) => p.phase === 'Succeeded').length >= o.jobs,
          env.timeoutMs,
        );
    const res: SystemResult = {
      createdSeconds: secs(t0, created),
      runningSeconds: secs(t0, running),
      [r.crs ? 'readySeconds' : 'succeededSeconds']: secs(t0, done),
      pods: o.jobs,
      podsPerSecond: round(o.jobs / ((created - t0) / 1000), 1),
    };
    if (system === 'raw') {
      res.apiRequests = r.client.countsObject();
      res.apiRequestsPerPod = perPod(res.apiRequests, o.jobs);
    } else if (system === 'replicaset') {
      await sleep(1000);
      res.kind = 'batch/v1 Job';
      res.apiRequests = r.driver.countsObject();
      res.apiRequestsPerPod = perPod(res.apiRequests, o.jobs);
      res.kcmRequests = diff(await kcmRequests(), kcm0!);
      res.kcmRequestsPerPod = perPod(res.kcmRequests as Record<string, number>, o.jobs);
      res.statusWritesPerObject = round([...r.crs!.modified.values()].reduce((a, b) => a + b, 0) / o.jobs);
    } else {
      Object.assign(res, await operatorFigures(r.op!, before, cpu0, o.jobs, o.jobs));
      const st = res.apiRequestsByResource as Record<string, number>;
      res.statusWritesPerObject = round((st['update computejobs/status'] ?? 0) / o.jobs);
    }
    return res;
  } finally {
    await r.cleanup();
  }
}

/** Gaffer's memory against cached pods: grows the worker count in steps, records RSS and heap at each. */
/** One step of the memory curve: the operator 3 s after every cluster reached the pod count. */
export interface CurvePoint {
  pods: number;
  rssMiB: number;
  rssAnonMiB: number;
  rssFileMiB: number;
  peakRssMiB: number;
  heapUsedMiB: number;
  heapTotalMiB: number;
  externalMiB: number;
  seconds: number;
  /** RSS once the burst's garbage is collected: V8's memory reducer runs some seconds after it. */
  settledRssMiB?: number;
  heapSnapshot?: string;
}

/** The operator's RSS after SETTLE_MS without new pods (the bench still scrapes /metrics every 2 s). */
const SETTLE_MS = 30_000;
async function settledRss(op: Operator): Promise<number | undefined> {
  await sleep(SETTLE_MS);
  return op.proc()?.rssMiB;
}

export async function runMemoryCurve(
  env: Env,
  o: { clusters: number; steps: number[]; heapSnapshots?: string },
): Promise<CurvePoint[]> {
  const r = new Run(env, 'gaffer', 'mem');
  const [crPath, view] = crPathFor(r, 'clusters');
  const points = [];
  try {
    await r.start(crPath, view);
    await r.createAll(
      r.p.clusters,
      Array.from({ length: o.clusters }, (_, i) => computeCluster(`c${i}`, 0)),
    );
    for (const target of o.steps) {
      const per = Math.ceil((target - o.clusters) / o.clusters);
      const t0 = Date.now();
      await pool(
        Array.from({ length: o.clusters }, (_, i) => `c${i}`),
        CONCURRENCY,
        async (c) => {
          await r.driver.req(
            'PATCH',
            `${r.p.clusters}/${c}`,
            { spec: { workers: { replicas: per, maxReplicas: Math.max(1000, per) } } },
            [],
            'application/merge-patch+json',
          );
        },
      );
      const ready = await r.crs!.until(
        `${target} pods Ready`,
        (cs) => cs.length === o.clusters && cs.every((c) => c.ready && c.current && c.readyReplicas === per),
        env.timeoutMs,
      );
      await sleep(3000);
      const m = await r.op!.metrics();
      const p = r.op!.proc();
      const pt: CurvePoint = {
        pods: r.livePods().length,
        rssMiB: round(p?.rssMiB ?? 0, 1),
        rssAnonMiB: round(p?.rssAnonMiB ?? 0, 1),
        rssFileMiB: round(p?.rssFileMiB ?? 0, 1),
        peakRssMiB: round(p?.hwmMiB ?? 0, 1),
        heapUsedMiB: round(heapMiB(m), 1),
        heapTotalMiB: round(heapTotalMiB(m), 1),
        externalMiB: round(externalMiB(m), 1),
        seconds: secs(t0, ready),
      };
      pt.settledRssMiB = round((await settledRss(r.op!)) ?? 0, 1);
      if (o.heapSnapshots) {
        // The mappings first (where RSS outside the V8 heap lives), then the heap itself.
        writeFileSync(join(o.heapSnapshots, `smaps-${pt.pods}.txt`), readFileSync(`/proc/${r.op!.pid}/smaps`));
        pt.heapSnapshot = await heapSnapshot(r.op!.pid, o.heapSnapshots);
      }
      env.log(`memory curve: ${JSON.stringify(pt)}`);
      points.push(pt);
    }
    return points;
  } finally {
    await r.cleanup();
  }
}

export { createNamespace, deleteNamespace };

// One soak run: the operator (two replicas, leader election, through the fault proxy), standing
// clusters and a stream of jobs, the scheduled faults, the invariants checked on every snapshot,
// then the settle phase (faults stopped: every cluster Ready, every job finished within a bound).
// Everything it starts or changes is undone on the way out (cleanup()).
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Api, authFromKubeconfig } from '../bench/api.ts';
import { createNamespace } from '../bench/control-plane.ts';
import { build } from '../bench/operator.ts';
import { CLUSTER_DIR, KUBECONFIG } from '../kubectl.ts';
import { OPERATOR_KUBECONFIG, OPERATOR_NAMESPACE, ensureCluster } from '../local-cluster.ts';
import { clusterFaultProxy, kubeconfigFileVia, type FaultProxy } from '../fault-proxy.ts';
import { DeletionTail, deletionsBefore, isDisruption, readDeletions } from './deletions.ts';
import { Injector, NOT_READY_LABEL, type FaultRecord } from './faults.ts';
import {
  Convergence,
  CounterCheck,
  OrphanCheck,
  checkLeaders,
  checkPods,
  clusterView,
  isFinished,
  jobView,
  podView,
  summary,
  type Snapshot,
  type Violation,
} from './invariants.ts';
import { Replica, leadership } from './operators.ts';
import { rng, schedule, type FaultEvent, type FaultKind } from './schedule.ts';
import { clustersPath, createCluster, createJob, jobsPath } from './workload.ts';

export interface SoakOptions {
  minutes: number;
  seed: number;
  settleSeconds: number;
  clusters: number;
  namespaces: number;
  /** A new job every this many seconds during the fault phase. */
  jobEverySeconds: number;
  meanFaultSeconds: number;
  weights: Record<FaultKind, number>;
  build: boolean;
  operatorArgs: string[];
  log: (s: string) => void;
}

export interface SoakReport {
  seed: number;
  minutes: number;
  namespaces: string[];
  clusters: number;
  jobs: number;
  faults: FaultRecord[];
  faultsByKind: Record<string, number>;
  violations: Violation[];
  converged: boolean;
  /** Seconds from the end of the faults until all were Ready/finished at once. */
  convergenceSeconds?: number;
  clusterReadySeconds: { n: number; p50: number; max: number };
  jobFinishedSeconds: { n: number; p50: number; max: number };
  pending: string[];
  pendingDetails: string[];
  jobOutcomes: Record<string, number>;
  leaderlessSeconds: { n: number; p50: number; max: number };
  operatorStarts: number;
  operatorSelfExits: number;
  /** Control-plane components restarted after they exited, as a kubelet restarts static pods. */
  componentRestarts: { at: number; name: string; why: string }[];
  snapshots: number;
  snapshotFailures: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TICK_MS = 1000;
/** The garbage collector's grace for a pod whose owner is gone (an API server restart delays it). */
const ORPHAN_GRACE_MS = 60_000;

export class Soak {
  private client: Api | undefined;
  /** The admin client, made on first use: the control plane (and its kubeconfig) may not be up before start(). */
  get api(): Api {
    return (this.client ??= new Api(authFromKubeconfig(KUBECONFIG), 8));
  }
  readonly id = randomBytes(3).toString('hex');
  readonly namespaces: string[];
  readonly replicas: Replica[] = [];
  readonly violations: Violation[] = [];
  readonly counters = new CounterCheck();
  readonly orphans = new OrphanCheck(ORPHAN_GRACE_MS);
  readonly random: () => number;
  proxy: FaultProxy | undefined;
  proxyKubeconfig: string | undefined;
  injector: Injector | undefined;
  latest: Snapshot | undefined;
  snapshots = 0;
  snapshotFailures = 0;
  standing: { ns: string; name: string }[] = [];
  jobs = 0;
  private leaderlessSince: number | undefined;
  readonly leaderless: number[] = [];
  private cleaned = false;
  /** The audit log's pod deletions, read as they come (creditDisruptions). */
  private readonly deletions: DeletionTail;

  constructor(readonly o: SoakOptions) {
    this.namespaces = Array.from({ length: o.namespaces }, (_, i) => `soak-${this.id}-${String.fromCharCode(97 + i)}`);
    this.deletions = new DeletionTail(join(CLUSTER_DIR, 'logs', 'audit.log'), this.namespaces);
    this.random = rng(o.seed ^ 0x5eed);
  }

  get electionId(): string {
    return `gaffer-soak-${this.id}`;
  }

  async setUp(): Promise<void> {
    const { log } = this.o;
    await ensureCluster();
    if (this.o.build) {
      log('npm run build (the operator runs compiled, as its image runs it)');
      build();
    }
    for (const ns of this.namespaces) await createNamespace(this.api, ns);
    this.proxy = await clusterFaultProxy();
    this.proxyKubeconfig = kubeconfigFileVia(OPERATOR_KUBECONFIG, this.proxy.port);
    for (const name of ['a', 'b']) {
      const r = new Replica(name, {
        kubeconfig: this.proxyKubeconfig,
        namespaces: this.namespaces,
        electionId: this.electionId,
        args: this.o.operatorArgs,
        log,
      });
      this.replicas.push(r);
      await r.start();
    }
    for (let i = 0; i < this.o.clusters; i++) {
      const ns = this.namespaces[i % this.namespaces.length]!;
      const workers = 2 + Math.floor(this.random() * 3);
      await createCluster(this.api, ns, `c${i}`, workers);
      this.standing.push({ ns, name: `c${i}` });
    }
    log(`${this.o.clusters} clusters in ${this.namespaces.join(', ')}; waiting for them to be Ready`);
    const t = Date.now();
    await this.until(() => this.allReady(), 180_000, 'the clusters Ready before the faults');
    log(`all Ready after ${((Date.now() - t) / 1000).toFixed(1)} s; faults start (seed ${this.o.seed})`);
  }

  private allReady(): boolean {
    const cs = this.latest?.clusters.filter((c) => !c.ownerJob) ?? [];
    return cs.length === this.o.clusters && cs.every((c) => c.ready);
  }

  /** Samples and checks until `done` holds (true) or the time is up (false). */
  private async until(done: () => boolean, ms: number, what: string, each?: () => void): Promise<boolean> {
    const deadline = Date.now() + ms;
    for (;;) {
      if (this.cleaned) return false;
      const tick = Date.now() + TICK_MS;
      await this.sample();
      each?.();
      if (done()) return true;
      if (Date.now() > deadline) {
        this.o.log(`timed out after ${ms / 1000} s waiting for ${what}`);
        return false;
      }
      await sleep(Math.max(0, tick - Date.now()));
    }
  }

  /**
   * Credits the pods Kubernetes took away since the last snapshot, as the audit log tells: the
   * taint manager's evictions (a pod placed on a node whose not-ready taint outlived the node's
   * recovery is evicted 300 s later, with no node down then) and Eviction API calls. The pod is
   * the one of that name in the snapshot before (its replacement may be in this one).
   */
  private creditDisruptions(before: Snapshot | undefined, s: Snapshot): void {
    for (const d of this.deletions.next().filter(isDisruption)) {
      const named = (x?: Snapshot) =>
        x?.pods.find((p) => p.ns === d.ns && p.name === d.pod && (p.created ?? 0) <= d.at);
      const pod = named(before) ?? named(s);
      if (pod) this.counters.disrupted(pod, d.at);
    }
  }

  /** One snapshot (pods first, then the owners: see OrphanCheck) and every check on it. */
  async sample(): Promise<void> {
    this.injector?.supervise();
    await this.checkLeadership();
    let s: Snapshot;
    try {
      s = await this.snapshot();
    } catch {
      this.snapshotFailures++;
      return;
    }
    this.snapshots++;
    const before = this.latest;
    this.latest = s;
    this.injector?.creditNodes(s);
    this.creditDisruptions(before, s);
    this.record([...checkPods(s), ...this.orphans.observe(s), ...this.counters.observe(s)]);
    // The fault proxy keeps every request it saw: not needed here.
    if (this.proxy) this.proxy.seen.length = 0;
  }

  private async snapshot(): Promise<Snapshot> {
    const list = async (path: string) => (await this.api.list(path)).items;
    const pods = (await Promise.all(this.namespaces.map((ns) => list(`/api/v1/namespaces/${ns}/pods`)))).flat();
    const clusters = (await Promise.all(this.namespaces.map((ns) => list(clustersPath(ns))))).flat();
    const jobs = (await Promise.all(this.namespaces.map((ns) => list(jobsPath(ns))))).flat();
    const ready = (n: any) => n.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');
    // A node the node controller tainted NoExecute for a lost Ready evicts its pods once their
    // tolerations run out (300 s), even if it is Ready again meanwhile (seen after API server
    // restarts): its pods are disrupted by the fault as much as those on a NotReady node.
    const evicting = (n: any) =>
      (n.spec?.taints ?? []).some(
        (t: any) => t.effect === 'NoExecute' && /^node\.kubernetes\.io\/(not-ready|unreachable)$/.test(t.key),
      );
    const readySince = (n: any) =>
      ready(n)
        ? Date.parse(n.status.conditions.find((c: any) => c.type === 'Ready').lastTransitionTime ?? '') || 0
        : undefined;
    const downNodes = new Map<string, number | undefined>(
      (await list('/api/v1/nodes'))
        .filter((n) => !ready(n) || evicting(n))
        .map((n) => [n.metadata.name, readySince(n)]),
    );
    return {
      at: Date.now(),
      downNodes,
      pods: pods.map(podView),
      clusters: clusters.map(clusterView),
      jobs: jobs.map(jobView),
    };
  }

  private async checkLeadership(): Promise<void> {
    if (!this.replicas.length) return;
    const now = Date.now();
    const l = await leadership(this.replicas);
    this.record(checkLeaders(now, l));
    if (l.some((x) => x.leads)) {
      if (this.leaderlessSince !== undefined) this.leaderless.push((now - this.leaderlessSince) / 1000);
      this.leaderlessSince = undefined;
    } else this.leaderlessSince ??= now;
  }

  private readonly seenKeys = new Set<string>();

  /** Records new violations; one seen again (the same pods in a later snapshot) only once. */
  private record(vs: Violation[]): void {
    for (const v of vs) {
      if (v.key !== undefined) {
        const k = `${v.kind} ${v.object} ${v.key}`;
        if (this.seenKeys.has(k)) continue;
        this.seenKeys.add(k);
      }
      this.violations.push(v);
      this.o.log(`VIOLATION ${v.kind}: ${v.object}: ${v.detail}`);
    }
  }

  /** The fault phase: faults as scheduled, a job every jobEverySeconds, checks every second. */
  async faults(): Promise<void> {
    const durationMs = this.o.minutes * 60_000;
    const events: FaultEvent[] = schedule({
      seed: this.o.seed,
      durationMs,
      meanIntervalMs: this.o.meanFaultSeconds * 1000,
      weights: this.o.weights,
    });
    const t0 = Date.now();
    this.injector = new Injector(
      {
        api: this.api,
        replicas: this.replicas,
        proxy: this.proxy!,
        counters: this.counters,
        orphans: this.orphans,
        latest: () => this.latest,
        log: this.o.log,
      },
      t0,
    );
    let next = 0;
    let nextJob = 0;
    await this.until(
      () => Date.now() - t0 >= durationMs,
      durationMs + 60_000,
      'the end of the faults',
      () => {
        while (next < events.length && events[next]!.at <= Date.now() - t0) this.injector!.fire(events[next++]!);
        if (Date.now() - t0 >= nextJob * this.o.jobEverySeconds * 1000)
          void this.newJob().then((ok) => ok && nextJob++);
      },
    );
  }

  private creatingJob = false;

  /** One more job, on a standing cluster of its namespace or (one in three) an ephemeral one. */
  private async newJob(): Promise<boolean> {
    if (this.creatingJob || this.cleaned) return false;
    this.creatingJob = true;
    const c = this.standing[Math.floor(this.random() * this.standing.length)]!;
    const ephemeral = this.random() < 1 / 3;
    const seconds = 10 + Math.floor(this.random() * 30);
    const name = `j${this.jobs}`;
    try {
      await createJob(this.api, c.ns, name, ephemeral ? undefined : c.name, seconds);
      this.jobs++;
      return true;
    } catch (e) {
      this.o.log(`creating job ${name}: ${e} (again next second)`);
      return false;
    } finally {
      this.creatingJob = false;
    }
  }

  /** Faults stopped and undone, replicas back: until every cluster is Ready and every job finished. */
  async settle(): Promise<Convergence> {
    const stoppedAt = Date.now();
    this.o.log('faults stopped; lifting those in force');
    await this.injector?.undoAll();
    for (const r of this.replicas) await r.resume();
    const conv = new Convergence(stoppedAt);
    const left = this.o.settleSeconds * 1000 - (Date.now() - stoppedAt);
    const ok = await this.until(
      () => !!this.latest && conv.observe(this.latest),
      Math.max(0, left),
      'every cluster Ready and every job finished',
    );
    if (!ok) this.pendingDetails = await this.describe(conv.pending()).catch((e) => [`(could not read them: ${e})`]);
    return conv;
  }

  pendingDetails: string[] = [];

  /** What is left of the objects that did not converge, for the report: status and pods. */
  private async describe(pending: string[]): Promise<string[]> {
    const out: string[] = [];
    for (const p of pending) {
      const [kind, key] = p.split(' ') as [string, string];
      const [ns, name] = key.split('/') as [string, string];
      const path = kind === 'computejob' ? jobsPath(ns) : clustersPath(ns);
      const o = await this.api.req('GET', `${path}/${name}`);
      const st = o.status ?? {};
      const conds = (st.conditions ?? []).map((c: any) => `${c.type}=${c.status} ${c.reason}: ${c.message}`);
      const sel = kind === 'computejob' ? `compute.gaffer.dev/job=${name}` : `compute.gaffer.dev/cluster=${name}`;
      const pods = (await this.api.list(`/api/v1/namespaces/${ns}/pods?labelSelector=${encodeURIComponent(sel)}`))
        .items;
      out.push(
        `${p}: phase ${st.phase}, ${JSON.stringify({ ...st, conditions: undefined })}`,
        ...conds.map((c: string) => `    ${c}`),
        ...pods.map(
          (x: any) =>
            `    pod ${x.metadata.name} ${x.status?.phase} on ${x.spec?.nodeName}${x.metadata.deletionTimestamp ? ' terminating' : ''} created ${x.metadata.creationTimestamp}`,
        ),
      );
    }
    return out;
  }

  /** Each cluster or job violation with its pods' deletions (who, when) in the 2 minutes before. */
  private withDeletions(vs: Violation[]): Violation[] {
    const all = readDeletions(join(CLUSTER_DIR, 'logs', 'audit.log'), this.namespaces);
    return vs.map((v) => {
      const m = /^compute(?:cluster|job) ([^/]+)\/(\S+)$/.exec(v.object);
      return m ? { ...v, deletions: deletionsBefore(all, m[1]!, m[2]!, v.at, 120_000) } : v;
    });
  }

  report(conv: Convergence): SoakReport {
    const faults = this.injector?.records ?? [];
    const byKind: Record<string, number> = {};
    for (const f of faults) if (!f.skipped && !f.error) byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
    const outcomes: Record<string, number> = {};
    for (const j of this.latest?.jobs ?? []) {
      const k = isFinished(j) ? `${j.phase}${j.reason && j.reason !== j.phase ? ` (${j.reason})` : ''}` : 'unfinished';
      outcomes[k] = (outcomes[k] ?? 0) + 1;
    }
    return {
      seed: this.o.seed,
      minutes: this.o.minutes,
      namespaces: this.namespaces,
      clusters: this.o.clusters,
      jobs: this.jobs,
      faults,
      faultsByKind: byKind,
      violations: this.withDeletions(this.violations),
      converged: conv.convergedAt !== undefined,
      convergenceSeconds:
        conv.convergedAt === undefined ? undefined : Math.round((conv.convergedAt - conv.stoppedAt) / 100) / 10,
      clusterReadySeconds: summary(conv.seconds('computecluster')),
      jobFinishedSeconds: summary(conv.seconds('computejob')),
      pending: conv.pending(),
      pendingDetails: this.pendingDetails,
      jobOutcomes: outcomes,
      leaderlessSeconds: summary(this.leaderless),
      operatorStarts: this.replicas.reduce((s, r) => s + r.starts, 0),
      operatorSelfExits: this.replicas.reduce((s, r) => s + r.selfExits.length, 0),
      componentRestarts: this.injector?.componentRestarts ?? [],
      snapshots: this.snapshots,
      snapshotFailures: this.snapshotFailures,
    };
  }

  /** Undoes everything, on every way out: operators stopped, faults lifted, namespaces and Lease deleted. */
  async cleanup(): Promise<void> {
    if (this.cleaned) return;
    this.cleaned = true;
    const { log } = this.o;
    const step = async (what: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (e) {
        log(`cleanup: ${what}: ${e}`);
      }
    };
    if (this.injector) this.injector.supervisionOff = true;
    await step('faults', async () => this.injector?.undoAll());
    await step('operators', () => Promise.all(this.replicas.map((r) => r.stop())));
    if (this.proxy) this.proxy.fault = () => undefined;
    await step('proxy', async () => this.proxy?.stop());
    if (this.proxyKubeconfig) rmSync(this.proxyKubeconfig, { force: true });
    await step('node labels', () => this.unlabelNodes());
    await step('namespaces', () => this.deleteNamespaces());
    await step('lease', () =>
      this.api.raw('DELETE', `/apis/coordination.k8s.io/v1/namespaces/${OPERATOR_NAMESPACE}/leases/${this.electionId}`),
    );
    this.api.agent.destroy();
  }

  private async unlabelNodes(): Promise<void> {
    for (const n of (await this.api.list('/api/v1/nodes')).items)
      if (n.metadata.labels?.[NOT_READY_LABEL] !== undefined)
        await this.api.req(
          'PATCH',
          `/api/v1/nodes/${n.metadata.name}`,
          { metadata: { labels: { [NOT_READY_LABEL]: null } } },
          [],
          'application/merge-patch+json',
        );
  }

  private async deleteNamespaces(): Promise<void> {
    for (const ns of this.namespaces) await this.api.raw('DELETE', `/api/v1/namespaces/${ns}`);
    const deadline = Date.now() + 120_000;
    for (const ns of this.namespaces)
      while ((await this.api.raw('GET', `/api/v1/namespaces/${ns}`)).status !== 404) {
        if (Date.now() > deadline) throw new Error(`namespace ${ns} still there after 120 s`);
        await sleep(500);
      }
  }
}

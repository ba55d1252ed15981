// Carries out the scheduled faults against the running soak: operator replicas, kube-apiserver,
// pods, nodes, the clusters' scale and the fault proxy. Each one is logged; the pods it disrupts
// are credited (invariants.ts, counter-jump). undoAll() lifts every fault still in force.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Api } from '../bench/api.ts';
import { CLUSTER_DIR, ROOT, componentProcess, runningComponentPid } from '../kubectl.ts';
import type { FaultProxy } from '../fault-proxy.ts';
import { hitByNode, type CounterCheck, type OrphanCheck, type PodView, type Snapshot } from './invariants.ts';
import type { Replica } from './operators.ts';
import { leadership } from './operators.ts';
import { pickOne, type FaultEvent, type FaultKind } from './schedule.ts';
import { scaleCluster } from './workload.ts';

/** Restarts one component with hack/cluster-restart.sh (its own command line, `down` seconds away). */
function restartComponent(name: string, down: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [`${ROOT}hack/cluster-restart.sh`, name, '--down-seconds', String(down)], {
      env: { ...process.env, GAFFER_CLUSTER_DIR: CLUSTER_DIR },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`cluster-restart.sh exited ${code}: ${err.trim().split('\n').pop()}`)),
    );
  });
}

/** The last non-empty line of a component's log: why it exited, usually. */
function lastLogLine(name: string): string {
  try {
    const lines = readFileSync(join(CLUSTER_DIR, 'logs', `${name}.log`), 'utf8')
      .trimEnd()
      .split('\n');
    return (lines.pop() ?? '').slice(0, 200);
  } catch {
    return '(no log)';
  }
}

export const NOT_READY_LABEL = 'sim.gaffer.dev/not-ready';

/** Tries `fn` until it succeeds (the API server may be restarting), up to `tries` times, 2 s apart. */
async function retry<T>(fn: () => Promise<T>, tries = 30): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (i >= tries) throw e;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

const componentPid = (name: string) => componentProcess(name)?.pid;

/** After a restart that failed, the component is left alone this long (no restart loop every second). */
const FAILED_RESTART_PAUSE_MS = 10_000;

/**
 * The components a kubelet would restart when they exit: kube-scheduler exits by design when its
 * cache goes wrong after an API server restart ("Scheduler cache is corrupted"), and a control
 * plane without it converges nothing. etcd and kube-apiserver are the faults' own business.
 */
const SUPERVISED = ['kube-controller-manager', 'kube-scheduler', 'kwok'] as const;

export interface FaultRecord {
  /** Seconds since the fault phase started. */
  at: number;
  kind: FaultKind;
  /** What it hit; `skipped` when there was nothing to hit (no leader, no running driver). */
  target: string;
  skipped?: boolean;
  error?: string;
}

export interface World {
  api: Api;
  replicas: Replica[];
  proxy: FaultProxy;
  counters: CounterCheck;
  orphans: OrphanCheck;
  latest: () => Snapshot | undefined;
  log: (s: string) => void;
}

type Outcome = Omit<FaultRecord, 'at' | 'kind'>;

/** How long after a node made NotReady is Ready again the pods placed on it before then are still credited. */
const READY_GRACE_MS = 5000;

export class Injector {
  readonly records: FaultRecord[] = [];
  /**
   * Nodes made NotReady, until when (ms): Infinity while down, then READY_GRACE_MS past the
   * moment it was Ready again; pods seen on them until then are credited if placed before it.
   */
  readonly notReady = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly pending = new Set<Promise<unknown>>();
  private throttled = false;
  private stopped = false;
  /** An API server restart or a supervised component's restart is under way. */
  private restarting = false;
  /** Control-plane components restarted after they exited (supervise()). */
  readonly componentRestarts: { at: number; name: string; why: string }[] = [];
  /** Set on cleanup: the control plane is no business of the soak's after it. */
  supervisionOff = false;

  constructor(
    private readonly w: World,
    private readonly t0: number,
  ) {}

  /** Starts one fault (not awaited: an API server restart takes seconds). */
  fire(ev: FaultEvent): void {
    if (this.stopped) return;
    const at = Math.round((Date.now() - this.t0) / 100) / 10;
    const run = this.inject(ev)
      .catch((e): Outcome => ({ target: '-', error: String(e?.message ?? e) }))
      .then((o) => {
        const r: FaultRecord = { at, kind: ev.kind, ...o };
        this.records.push(r);
        const how = (o.skipped && ' (skipped)') || (o.error && ` (failed: ${o.error})`) || '';
        this.w.log(
          `fault at +${at}s ${ev.kind}: ${o.target}${ev.duration ? ` for ${(ev.duration / 1000).toFixed(1)} s` : ''}${how}`,
        );
      });
    this.track(run);
  }

  private track(p: Promise<unknown>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private later(ms: number, fn: () => Promise<void> | void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.track(Promise.resolve(fn()).catch((e) => this.w.log(`undoing a fault: ${e}`)));
    }, ms);
    this.timers.add(t);
  }

  private inject(ev: FaultEvent): Promise<Outcome> {
    switch (ev.kind) {
      case 'operator-kill':
        return this.killReplica(ev, 'SIGKILL', false);
      case 'leader-kill':
        return this.killReplica(ev, 'SIGKILL', true);
      case 'leader-term':
        return this.killReplica(ev, 'SIGTERM', true);
      case 'apiserver-restart':
        return this.restartApiServer(ev);
      case 'pod-fail':
        return this.annotatePod(ev, ['master', 'worker'], { 'sim.gaffer.dev/fail-after': '1s' });
      case 'crash-loop':
        return this.annotatePod(ev, ['master', 'worker'], {
          'sim.gaffer.dev/crash-loop': 'true',
          'sim.gaffer.dev/crash-after': '1s',
          'sim.gaffer.dev/restart-after': '1s',
        });
      case 'driver-fail':
        return this.annotatePod(ev, ['driver'], { 'sim.gaffer.dev/fail-after': '1s' });
      case 'node-not-ready':
        return this.nodeNotReady(ev);
      case 'scale':
        return this.scale(ev);
      case 'throttle-429':
        return Promise.resolve(this.throttle(ev));
    }
  }

  private async killReplica(ev: FaultEvent, sig: NodeJS.Signals, leader: boolean): Promise<Outcome> {
    let target: Replica | undefined;
    if (leader) {
      const l = (await leadership(this.w.replicas)).find((x) => x.leads);
      target = this.w.replicas.find((r) => r.name === l?.name);
    } else
      target = pickOne(
        this.w.replicas.filter((r) => r.alive),
        (r) => r.name,
        ev.pick,
      );
    if (!target) return { target: leader ? 'no leader' : 'no replica running', skipped: true };
    const pid = target.pid;
    if (!target.kill(sig, ev.duration)) return { target: `replica ${target.name} not running`, skipped: true };
    return { target: `${sig} replica ${target.name} (pid ${pid})` };
  }

  /**
   * One at a time: two cluster-restart.sh at once leave a kube-apiserver that no pid file knows.
   * Every request in flight through the proxy is cut as it goes, as a crash cuts them (a graceful
   * stop ends watches cleanly; the proxy alone would leave a watch whose upstream died hanging).
   * Afterwards the new kube-apiserver must be the one running (its pid alive).
   */
  private async restartApiServer(ev: FaultEvent): Promise<Outcome> {
    if (this.restarting) return { target: 'a restart is under way', skipped: true };
    this.restarting = true;
    try {
      this.w.proxy.cutAll();
      const o = await this.runRestart(ev);
      const pid = componentPid('kube-apiserver');
      if (runningComponentPid('kube-apiserver') === undefined)
        throw new Error(`kube-apiserver (pid ${pid}) is not running after its restart`);
      return o;
    } finally {
      this.restarting = false;
    }
  }

  private async runRestart(ev: FaultEvent): Promise<Outcome> {
    const down = Math.round(ev.duration / 1000);
    const started = Date.now();
    await restartComponent('kube-apiserver', down);
    this.w.orphans.controlPlaneRestarted(Date.now());
    return { target: `kube-apiserver, down ${down} s, back after ${((Date.now() - started) / 1000).toFixed(1)} s` };
  }

  /**
   * Restarts the supervised components that exited (called with each snapshot, faults or not),
   * never during an API server restart (one cluster-restart.sh at a time). Each restart is logged
   * and kept in `componentRestarts`.
   */
  supervise(): void {
    if (this.restarting || this.supervisionOff) return;
    const now = Date.now();
    // Recorded (started once) but no longer running under that pid and start time.
    const dead = SUPERVISED.filter(
      (name) =>
        componentProcess(name) !== undefined &&
        runningComponentPid(name) === undefined &&
        (this.failedRestartAt.get(name) ?? -Infinity) + FAILED_RESTART_PAUSE_MS < now,
    );
    if (!dead.length) return;
    this.restarting = true;
    // Tracked: undoAll() (and so cleanup) waits for a restart under way.
    this.track(this.restartDead(dead).finally(() => (this.restarting = false)));
  }

  private readonly failedRestartAt = new Map<string, number>();

  private async restartDead(dead: readonly string[]): Promise<void> {
    for (const name of dead) {
      const pid = componentPid(name);
      const tail = lastLogLine(name);
      try {
        await restartComponent(name, 0);
        this.w.orphans.controlPlaneRestarted(Date.now());
        this.componentRestarts.push({ at: Math.round((Date.now() - this.t0) / 100) / 10, name, why: tail });
        this.w.log(`restarted ${name} (pid ${pid} had exited: ${tail})`);
      } catch (e) {
        this.failedRestartAt.set(name, Date.now());
        this.componentRestarts.push({
          at: Math.round((Date.now() - this.t0) / 100) / 10,
          name,
          why: `${tail}; the restart failed: ${e}`,
        });
        this.w.log(`restarting ${name}: ${e} (again in ${FAILED_RESTART_PAUSE_MS / 1000} s)`);
      }
    }
  }

  /**
   * Annotates a random running pod of these roles. The patch names the pod's uid, which the API
   * server refuses to change (422), so a pod replaced meanwhile under the same name is not hit.
   */
  private async annotatePod(ev: FaultEvent, roles: string[], annotations: Record<string, string>): Promise<Outcome> {
    const s = this.w.latest();
    const candidates = (s?.pods ?? []).filter(
      (p) =>
        !p.terminating &&
        !p.faulted &&
        p.phase === 'Running' &&
        roles.includes(p.labels['compute.gaffer.dev/role'] ?? '') &&
        !(p.node && this.notReady.has(p.node)),
    );
    const pod = pickOne(candidates, (p) => `${p.ns}/${p.name}`, ev.pick);
    if (!pod || !s) return { target: `no running ${roles.join('/')} pod`, skipped: true };
    const path = `/api/v1/namespaces/${pod.ns}/pods/${pod.name}`;
    const body = { metadata: { uid: pod.uid, annotations } };
    const target = `pod ${pod.ns}/${pod.name}`;
    let status: number;
    try {
      status = (await this.w.api.raw('PATCH', path, body, 'application/merge-patch+json')).status;
    } catch (e) {
      // No answer: it may have been applied; credit it (credits only loosen the bound).
      this.w.counters.disrupted(pod, Date.now());
      return { target: `${target} (no answer: ${e}; counted as hit)` };
    }
    if (status < 200 || status > 299) return { target: `${target}: HTTP ${status}`, skipped: true };
    this.w.counters.disrupted(pod, Date.now());
    return { target };
  }

  private async nodeNotReady(ev: FaultEvent): Promise<Outcome> {
    const nodes = (await this.w.api.list('/api/v1/nodes')).items.filter(
      (n) => n.metadata.annotations?.['kwok.x-k8s.io/node'] === 'fake' && !this.notReady.has(n.metadata.name),
    );
    const node = pickOne(nodes, (n) => n.metadata.name, ev.pick);
    if (!node) return { target: 'no node', skipped: true };
    const name: string = node.metadata.name;
    this.notReady.set(name, Infinity);
    try {
      await this.labelNode(name, 'true');
    } catch (e) {
      // Perhaps applied: undone at once (and again at the end if this fails too).
      await this.labelNode(name, null).then(
        () => this.notReady.delete(name),
        () => {},
      );
      throw e;
    }
    // Pods seen on it up to a little after it is Ready again are credited (the runner's snapshots).
    this.later(ev.duration, async () => {
      await retry(() => this.labelNode(name, null));
      this.notReady.set(name, Date.now() + READY_GRACE_MS);
    });
    return { target: `node ${name}` };
  }

  labelNode(name: string, value: string | null): Promise<unknown> {
    const body = { metadata: { labels: { [NOT_READY_LABEL]: value } } };
    return this.w.api.req('PATCH', `/api/v1/nodes/${name}`, body, [], 'application/merge-patch+json');
  }

  private async scale(ev: FaultEvent): Promise<Outcome> {
    const standing = (this.w.latest()?.clusters ?? []).filter((c) => !c.ownerJob && !c.terminating);
    const c = pickOne(standing, (x) => `${x.ns}/${x.name}`, ev.pick);
    if (!c) return { target: 'no cluster', skipped: true };
    const replicas = 1 + Math.floor(ev.level * 5);
    await scaleCluster(this.w.api, c.ns, c.name, replicas);
    return { target: `computecluster ${c.ns}/${c.name} to ${replicas} workers` };
  }

  private throttle(ev: FaultEvent): Outcome {
    const fraction = Math.round((0.3 + 0.6 * ev.level) * 100) / 100;
    this.w.proxy.fault = () =>
      Math.random() < fraction ? { kind: 'status', code: 429, reason: 'TooManyRequests' } : undefined;
    this.throttled = true;
    this.later(ev.duration, () => this.unthrottle());
    return { target: `${Math.round(fraction * 100)}% of the operator's requests` };
  }

  private unthrottle(): void {
    this.w.proxy.fault = () => undefined;
    this.throttled = false;
  }

  /**
   * Credits the pods seen on a node made NotReady, or not Ready (or tainted to evict) in the
   * snapshot, and those Kubernetes is taking away (DisruptionTarget). Called with each snapshot.
   */
  creditNodes(s: Snapshot): void {
    const now = Date.now();
    for (const [node, until] of this.notReady) if (until < now) this.notReady.delete(node);
    const hit = (p: PodView, node: string) => {
      const until = this.notReady.get(node);
      const byFault = until !== undefined && hitByNode(p, until === Infinity ? undefined : until - READY_GRACE_MS);
      return byFault || (!!s.downNodes?.has(node) && hitByNode(p, s.downNodes.get(node)));
    };
    for (const p of s.pods) if ((p.node && hit(p, p.node)) || p.disrupted) this.w.counters.disrupted(p, s.at);
  }

  /** Lifts every fault still in force (nodes Ready, no 429s) and waits for those in progress. */
  async undoAll(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled([...this.pending]);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.throttled) this.unthrottle();
    for (const [node, until] of this.notReady)
      if (until === Infinity) {
        await this.labelNode(node, null).catch((e) => this.w.log(`node ${node}: ${e}`));
        this.notReady.set(node, Date.now() + READY_GRACE_MS);
      }
    await Promise.allSettled([...this.pending]);
  }
}

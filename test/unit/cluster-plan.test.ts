// The ComputeCluster builders and planner are pure: tested here without an API server.
// Each policy file (observe, master, workers, recovery) has its cases below, as tables
// where one behaviour has several inputs.
import { expect } from 'chai';
import { validateCluster, type ValidComputeCluster } from '../../src/api/v1alpha1/index.ts';
import { buildMasterPod, buildWorkerPod, masterRevision, workerRevision } from '../../src/builders/pods.ts';
import { buildMasterService } from '../../src/builders/services.ts';
import { createsOf, deletesOf } from '../../src/controllers/computecluster/actions.ts';
import {
  desiredWorkerCount,
  maxUnavailableCount,
  planCluster,
  scaleDownOrder,
} from '../../src/controllers/computecluster/plan.ts';
import { computeClusterStatus } from '../../src/controllers/computecluster/status.ts';
import { podProblem } from '../../src/controllers/common/podhealth.ts';
import { backoffSeconds } from '../../src/controllers/common/time.ts';
import { NOW, clusterPods, masterPod, node, nodes, withState, workerPod } from '../fixtures/pods.ts';
import { minimalCluster } from '../fixtures/specs.ts';

/** minimalCluster() as c in ns, changed by `mut`, validated and defaulted. */
function cluster(mut: (c: any) => void = () => {}): ValidComputeCluster {
  const c = minimalCluster();
  c.metadata = { name: 'c', namespace: 'ns', uid: 'uid-c', generation: 1 };
  mut(c);
  return validateCluster(c).value;
}

const up = nodes(node('n1'));
const deleted = (plan: ReturnType<typeof planCluster>) => deletesOf(plan.actions);
const created = (plan: ReturnType<typeof planCluster>) => createsOf(plan.actions).map((a) => a.pod);

describe('pod builders', () => {
  it('injects the GAFFER_* environment without overriding what the template sets', () => {
    const c = cluster((x) => {
      x.spec.workers.template.spec.containers[0].env = [{ name: 'GAFFER_WORKERS', value: 'mine' }];
    });
    const w = buildWorkerPod(c, 4, 7);
    const env = Object.fromEntries(w.spec!.containers[0]!.env!.map((e) => [e.name, e.value]));
    expect(env).to.deep.equal({
      GAFFER_WORKERS: 'mine',
      GAFFER_CLUSTER: 'c',
      GAFFER_NAMESPACE: 'ns',
      GAFFER_ROLE: 'worker',
      GAFFER_MASTER_HOST: 'c-master.ns.svc',
      GAFFER_MASTER_PORT: '7000',
      GAFFER_MASTER_ADDR: 'c-master.ns.svc:7000',
      GAFFER_WORKER_INDEX: '4',
    });
    expect(w.metadata!.name).to.equal('c-worker-4');
  });
  it('injects into init containers too, and keeps Gaffer labels over template labels', () => {
    const c = cluster((x) => {
      x.spec.master.template.spec.initContainers = [{ name: 'init', image: 'x' }];
      x.spec.master.template.metadata = { labels: { 'compute.gaffer.dev/role': 'hijack', team: 'a' } };
    });
    const m = buildMasterPod(c);
    expect(m.spec!.initContainers![0]!.env!.map((e) => e.name)).to.include('GAFFER_MASTER_ADDR');
    expect(m.metadata!.labels).to.include({ 'compute.gaffer.dev/role': 'master', team: 'a' });
  });
  it('changes the revision only with the template', () => {
    const a = cluster();
    const b = cluster((x) => {
      x.spec.workers.replicas = 9;
    });
    const d = cluster((x) => {
      x.spec.workers.template.spec.containers[0].image = 'other';
    });
    expect(workerRevision(a)).to.equal(workerRevision(b));
    expect(workerRevision(a)).to.not.equal(workerRevision(d));
    expect(masterRevision(a)).to.equal(masterRevision(d));
  });
  it('takes Service ports from spec.master.ports, else the container ports', () => {
    expect(buildMasterService(cluster()).spec!.ports).to.deep.equal([
      { name: 'rpc', port: 7000, targetPort: 7000, protocol: 'TCP' },
    ]);
    const c = cluster((x) => {
      x.spec.master.ports = [
        { name: 'a', port: 1 },
        { name: 'b', port: 2, targetPort: 'web' },
      ];
    });
    expect(buildMasterService(c).spec!.ports!.map((p) => [p.port, p.targetPort])).to.deep.equal([
      [1, 1],
      [2, 'web'],
    ]);
  });
});

describe('workers policy: desired count', () => {
  const cases: { name: string; mut: (x: any) => void; want: number }[] = [
    {
      name: 'clamps replicas to maxReplicas',
      mut: (x) => Object.assign(x.spec.workers, { replicas: 50, maxReplicas: 6 }),
      want: 6,
    },
    {
      name: 'defaults replicas to minReplicas',
      mut: (x) => Object.assign(x.spec.workers, { replicas: undefined, minReplicas: 2 }),
      want: 2,
    },
    { name: 'is 0 when suspended', mut: (x) => (x.spec.suspend = true), want: 0 },
  ];
  for (const t of cases) it(t.name, () => expect(desiredWorkerCount(cluster(t.mut))).to.equal(t.want));
});

describe('workers policy: maxUnavailable as a count', () => {
  const cases: [number | string, number, number][] = [
    ['25%', 4, 1],
    ['10%', 4, 1], // rounded down, at least 1
    [3, 4, 3],
  ];
  for (const [v, desired, want] of cases) {
    it(`${v} of ${desired} is ${want}`, () => expect(maxUnavailableCount(v, desired)).to.equal(want));
  }
});

describe('planCluster', () => {
  it('creates the master and the missing workers at the lowest free indexes', () => {
    const c = cluster((x) => {
      x.spec.workers.replicas = 4;
    });
    const pods = [workerPod(c, 1, { of: 4 }), workerPod(c, 3, { of: 4 })];
    const plan = planCluster(c, pods, up, NOW);
    expect(created(plan).map((p) => p.metadata!.name)).to.deep.equal(['c-master', 'c-worker-0', 'c-worker-2']);
    expect(deleted(plan)).to.deep.equal([]);
  });
  it('is quiet when everything matches', () => {
    const c = cluster();
    const plan = planCluster(c, clusterPods(c, 2), up, NOW);
    expect([created(plan), deleted(plan), plan.progress, plan.intent]).to.deep.equal([[], [], [], undefined]);
  });
  it('scales down: not Ready first, then lowest deletion cost, then highest index', () => {
    const c = cluster();
    const mk = (index: number, s = {}) => ({ pod: workerPod(c, index, { of: 5, ...s }), index });
    const pods = [mk(0, { deletionCost: -5 }), mk(1), mk(2, { ready: false }), mk(3), mk(4, { deletionCost: 10 })];
    expect(scaleDownOrder(pods).map((x) => x.index)).to.deep.equal([2, 0, 3, 1, 4]);
  });
  it('replaces a failed worker at once and records the intent; the next one waits for the backoff', () => {
    const c = cluster();
    const pods = [masterPod(c), workerPod(c, 0, { of: 2, phase: 'Failed' }), workerPod(c, 1, { of: 2 })];
    const plan = planCluster(c, pods, up, NOW);
    expect(deleted(plan).map((d) => [d.name, d.reason])).to.deep.equal([['c-worker-0', 'PodFailed']]);
    expect(created(plan)).to.deep.equal([]); // the same index is reused once the pod is gone
    expect(plan.intent?.recovery).to.include({ podsReplaced: 1, failureStreak: 1, lastReason: 'PodFailed' });
    // Later failure within the streak: waits initialSeconds (10) after the last one.
    const c2 = { ...c, status: { recovery: plan.intent?.recovery } };
    const later = planCluster(c2, pods, up, NOW + 5000);
    expect(deleted(later)).to.deep.equal([]);
    expect(later.wakeAt).to.equal(NOW + 10_000);
    expect(deleted(planCluster(c2, pods, up, NOW + 10_000))).to.have.length(1);
  });
  it('force-deletes pods on a lost node, including one stuck terminating there', () => {
    const c = cluster();
    const pods = [
      masterPod(c),
      workerPod(c, 0, { of: 2, node: 'dead' }),
      workerPod(c, 1, { of: 2, node: 'dead', terminating: 1 }),
    ];
    const plan = planCluster(c, pods, nodes(node('n1'), node('dead', { ready: false, sinceS: 120 })), NOW);
    expect(deleted(plan).map((d) => [d.name, d.reason, d.force])).to.deep.equal([
      ['c-worker-1', 'NodeLost', true],
      ['c-worker-0', 'NodeLost', true],
    ]);
    expect(created(plan)).to.deep.equal([]); // the same names come back once the pods are gone
  });
  it('restarts a lost master per failurePolicy and stalls at maxRestarts', () => {
    const c = cluster((x) => {
      x.spec.master.failurePolicy = { action: 'RestartCluster', maxRestarts: 2, windowSeconds: 600 };
    });
    const pods = [masterPod(c, { phase: 'Failed' }), ...clusterPods(c, 2).slice(1)];
    const plan = planCluster(c, pods, up, NOW);
    expect(
      deleted(plan)
        .map((d) => d.name)
        .sort(),
    ).to.deep.equal(['c-master', 'c-worker-0', 'c-worker-1']);
    expect(plan.intent).to.include({ masterRestarts: 1, clearMasterUid: true });
    const times = [new Date(NOW - 100_000).toISOString(), new Date(NOW - 50_000).toISOString()];
    const two = { ...c, status: { recovery: { masterRestartTimes: times } } };
    const stalled = planCluster(two, pods, up, NOW);
    expect(stalled.stalled?.reason).to.equal('MasterRestartLimit');
    expect(deleted(stalled)).to.deep.equal([]);
    expect(stalled.wakeAt).to.equal(NOW - 100_000 + 600_000); // when the window frees a restart
  });

  describe('rolls workers per updateStrategy', () => {
    const old = cluster((x) => {
      x.spec.workers.replicas = 4;
    });
    const pods = clusterPods(old, 4);
    const v2 = (strategy?: object) =>
      cluster((x) => {
        x.spec.workers.replicas = 4;
        x.spec.workers.template.spec.containers[0].image = 'v2';
        if (strategy) x.spec.workers.updateStrategy = strategy;
      });
    const cases: { name: string; c: ValidComputeCluster; deletes: number }[] = [
      { name: 'RollingUpdate (default maxUnavailable 1): one at a time', c: v2(), deletes: 1 },
      { name: 'RollingUpdate maxUnavailable 50%: two', c: v2({ maxUnavailable: '50%' }), deletes: 2 },
      { name: 'Recreate: all at once', c: v2({ type: 'Recreate' }), deletes: 4 },
      { name: 'OnDelete: none', c: v2({ type: 'OnDelete' }), deletes: 0 },
    ];
    for (const t of cases) {
      it(t.name, () => {
        const del = deleted(planCluster(t.c, pods, up, NOW));
        expect(del).to.have.length(t.deletes);
        expect(del.every((d) => d.reason === 'TemplateChanged')).to.equal(true);
      });
    }
  });
});

describe('pod health', () => {
  const c = cluster();
  const r = { crashLoop: { maxContainerRestarts: 5, windowSeconds: 600 }, nodeLossSeconds: 60 };
  const w = buildWorkerPod(c, 0, 1);
  const cases: { name: string; pod: ReturnType<typeof withState>; nodes: ReturnType<typeof nodes>; want: object }[] = [
    {
      name: 'fast restarts are a crash loop',
      pod: withState(w, { restarts: 6, startedAgoS: 300 }),
      nodes: up,
      want: { reason: 'CrashLoop' },
    },
    { name: 'slow restarts are not', pod: withState(w, { restarts: 6, startedAgoS: 6000 }), nodes: up, want: {} },
    {
      name: 'an evicted pod',
      pod: withState(w, { phase: 'Failed', reason: 'Evicted' }),
      nodes: nodes(),
      want: { reason: 'Evicted' },
    },
    {
      name: 'a node NotReady past nodeLossSeconds',
      pod: withState(w),
      nodes: nodes(node('n1', { ready: false, sinceS: 61 })),
      want: { reason: 'NodeLost' },
    },
    { name: 'a deleted node', pod: withState(w), nodes: nodes(), want: { reason: 'NodeLost' } },
  ];
  for (const t of cases) {
    it(t.name, () => {
      const { problem } = podProblem(t.pod, t.nodes, r, NOW);
      if ('reason' in t.want) expect(problem?.reason).to.equal(t.want.reason);
      else expect(problem).to.equal(undefined);
    });
  }
  it('a node NotReady for less than nodeLossSeconds: when it would count as lost', () => {
    const notYet = nodes(node('n1', { ready: false, sinceS: 30 }));
    expect(podProblem(withState(w), notYet, r, NOW)).to.deep.equal({ nodeLossAt: NOW + 30_000 });
  });
});

describe('cluster status', () => {
  it('is Ready with all conditions when the cluster matches the spec', () => {
    const c = cluster();
    const plan = planCluster(c, clusterPods(c, 2), up, NOW);
    const s = computeClusterStatus(c, { plan, activeJobs: 1, now: new Date(NOW) });
    expect(s.phase).to.equal('Running');
    expect(s.workers).to.deep.include({ replicas: 2, readyReplicas: 2, summary: '2/2' });
    expect(s.conditions!.map((x) => `${x.type}=${x.status}`)).to.deep.equal([
      'Ready=True',
      'Reconciling=False',
      'Stalled=False',
      'MasterReady=True',
      'WorkersReady=True',
      'ReplicaFailure=False',
      'Suspended=False',
    ]);
    expect(s.activeJobs).to.equal(1);
  });
  it('keeps lastTransitionTime when a condition did not change', () => {
    const c = cluster();
    const plan = planCluster(c, clusterPods(c, 2), up, NOW);
    const s1 = computeClusterStatus(c, { plan, activeJobs: 0, now: new Date(NOW) });
    const s2 = computeClusterStatus({ ...c, status: s1 }, { plan, activeJobs: 0, now: new Date(NOW + 60_000) });
    expect(s2).to.deep.equal(s1);
  });
  const backoff = { initialSeconds: 10, maxSeconds: 360 };
  const steps: [number, number][] = [
    [0, 0],
    [1, 10],
    [2, 20],
    [3, 40],
    [4, 80],
    [10, 360],
  ];
  for (const [n, want] of steps) {
    it(`backs off ${want}s after ${n} failure(s) in a streak`, () => expect(backoffSeconds(n, backoff)).to.equal(want));
  }
});

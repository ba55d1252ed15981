// The ComputeCluster builders and planner are pure: tested here without an API server.
import { expect } from 'chai';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { validateObject, type ComputeCluster } from '../../src/api/v1alpha1/index.ts';
import { buildMasterPod, buildWorkerPod, masterRevision, workerRevision } from '../../src/builders/pods.ts';
import { buildMasterService } from '../../src/builders/services.ts';
import {
  desiredWorkerCount,
  maxUnavailableCount,
  planCluster,
  scaleDownOrder,
} from '../../src/controllers/computecluster/plan.ts';
import { computeClusterStatus } from '../../src/controllers/computecluster/status.ts';
import { podProblem } from '../../src/controllers/shared/podhealth.ts';
import { backoffSeconds } from '../../src/controllers/shared/time.ts';
import { minimalCluster } from '../fixtures/specs.ts';

const NOW = Date.parse('2026-01-01T00:00:00Z');

function cluster(mut: (c: any) => void = () => {}): ComputeCluster {
  const c = minimalCluster();
  c.metadata = { name: 'c', namespace: 'ns', uid: 'uid-c', generation: 1 };
  mut(c);
  return validateObject<ComputeCluster>(c).value;
}

function running(p: V1Pod, o: { ready?: boolean; node?: string; restarts?: number; startedAgoS?: number } = {}): V1Pod {
  return {
    ...p,
    metadata: { ...p.metadata, uid: `uid-${p.metadata!.name}` },
    spec: { ...p.spec!, nodeName: o.node ?? 'n1' },
    status: {
      phase: 'Running',
      startTime: new Date(NOW - (o.startedAgoS ?? 3600) * 1000).toISOString() as any,
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
      containerStatuses: [
        { name: 'x', image: 'x', imageID: '', ready: o.ready !== false, restartCount: o.restarts ?? 0 },
      ],
    },
  };
}

const node = (name: string, ready: boolean, sinceS = 3600): V1Node => ({
  metadata: { name },
  status: {
    conditions: [
      {
        type: 'Ready',
        status: ready ? 'True' : 'False',
        lastTransitionTime: new Date(NOW - sinceS * 1000).toISOString() as any,
      },
    ],
  },
});
const nodes = (...ns: V1Node[]) => new Map(ns.map((n) => [n.metadata!.name!, n]));
const healthyCluster = (c: ComputeCluster, n = 2) => [
  running(buildMasterPod(c)),
  ...Array.from({ length: n }, (_, i) => running(buildWorkerPod(c, i, n))),
];

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

describe('planCluster', () => {
  it('creates the master and the missing workers at the lowest free indexes', () => {
    const c = cluster((x) => {
      x.spec.workers.replicas = 4;
    });
    const pods = [running(buildWorkerPod(c, 1, 4)), running(buildWorkerPod(c, 3, 4))];
    const plan = planCluster(c, pods, nodes(node('n1', true)), NOW);
    expect(plan.creates.map((p) => p.metadata!.name)).to.deep.equal(['c-master', 'c-worker-0', 'c-worker-2']);
    expect(plan.deletes).to.deep.equal([]);
  });
  it('is quiet when everything matches', () => {
    const c = cluster();
    const plan = planCluster(c, healthyCluster(c), nodes(node('n1', true)), NOW);
    expect([plan.creates, plan.deletes, plan.progress, plan.intent]).to.deep.equal([[], [], [], undefined]);
  });
  it('clamps the desired count', () => {
    expect(
      desiredWorkerCount(
        cluster((x) => {
          x.spec.workers = { ...x.spec.workers, replicas: 50, maxReplicas: 6 };
        }),
      ),
    ).to.equal(6);
    expect(
      desiredWorkerCount(
        cluster((x) => {
          x.spec.workers = { ...x.spec.workers, replicas: undefined, minReplicas: 2 };
        }),
      ),
    ).to.equal(2);
    expect(
      desiredWorkerCount(
        cluster((x) => {
          x.spec.suspend = true;
        }),
      ),
    ).to.equal(0);
  });
  it('scales down: not Ready first, then lowest deletion cost, then highest index', () => {
    const c = cluster();
    const mk = (i: number, o: any = {}, cost?: string) => {
      const p = running(buildWorkerPod(c, i, 5), o);
      if (cost) p.metadata!.annotations![`controller.kubernetes.io/pod-deletion-cost`] = cost;
      return { pod: p, index: i };
    };
    const order = scaleDownOrder([mk(0, {}, '-5'), mk(1), mk(2, { ready: false }), mk(3), mk(4, {}, '10')]).map(
      (x) => x.index,
    );
    expect(order).to.deep.equal([2, 0, 3, 1, 4]);
  });
  it('replaces a failed worker at once and records the intent; the next one waits for the backoff', () => {
    const c = cluster();
    const pods = healthyCluster(c);
    pods[1]!.status!.phase = 'Failed';
    const plan = planCluster(c, pods, nodes(node('n1', true)), NOW);
    expect(plan.deletes.map((d) => [d.name, d.reason])).to.deep.equal([['c-worker-0', 'PodFailed']]);
    expect(plan.creates).to.deep.equal([]); // the same index is reused once the pod is gone
    expect(plan.intent).to.include({ podsReplaced: 1, failureStreak: 1, lastReason: 'PodFailed' });
    // Later failure within the streak: waits initialSeconds (10) after the last one.
    const c2 = { ...c, status: { recovery: plan.intent } } as ComputeCluster;
    const later = planCluster(c2, pods, nodes(node('n1', true)), NOW + 5000);
    expect(later.deletes).to.deep.equal([]);
    expect(later.wakeAt).to.equal(NOW + 10_000);
    expect(planCluster(c2, pods, nodes(node('n1', true)), NOW + 10_000).deletes).to.have.length(1);
  });
  it('detects crash loops, evictions and lost nodes', () => {
    const c = cluster();
    const r = { crashLoop: { maxContainerRestarts: 5, windowSeconds: 600 }, nodeLossSeconds: 60 };
    const w = buildWorkerPod(c, 0, 1);
    expect(
      podProblem(running(w, { restarts: 6, startedAgoS: 300 }), nodes(node('n1', true)), r, NOW).problem?.reason,
    ).to.equal('CrashLoop');
    expect(
      podProblem(running(w, { restarts: 6, startedAgoS: 6000 }), nodes(node('n1', true)), r, NOW).problem,
    ).to.equal(undefined); // slow restarts
    const ev = running(w);
    ev.status!.phase = 'Failed';
    ev.status!.reason = 'Evicted';
    expect(podProblem(ev, nodes(), r, NOW).problem?.reason).to.equal('Evicted');
    expect(podProblem(running(w), nodes(node('n1', false, 61)), r, NOW).problem?.reason).to.equal('NodeLost');
    expect(podProblem(running(w), nodes(node('n1', false, 30)), r, NOW)).to.deep.equal({ nodeLossAt: NOW + 30_000 });
    expect(podProblem(running(w), nodes(), r, NOW).problem?.reason).to.equal('NodeLost'); // node deleted
  });
  it('force-deletes pods on a lost node, including one stuck terminating there', () => {
    const c = cluster();
    const pods = healthyCluster(c);
    pods[1]!.spec!.nodeName = 'dead';
    pods[2]!.spec!.nodeName = 'dead';
    pods[2]!.metadata!.deletionTimestamp = new Date(NOW - 1000).toISOString() as any;
    const plan = planCluster(c, pods, nodes(node('n1', true), node('dead', false, 120)), NOW);
    expect(plan.deletes.map((d) => [d.name, d.reason, d.force])).to.deep.equal([
      ['c-worker-1', 'NodeLost', true],
      ['c-worker-0', 'NodeLost', true],
    ]);
    expect(plan.creates).to.deep.equal([]); // the same names come back once the pods are gone
  });

  it('restarts a lost master per failurePolicy and stalls at maxRestarts', () => {
    const c = cluster((x) => {
      x.spec.master.failurePolicy = { action: 'RestartCluster', maxRestarts: 2, windowSeconds: 600 };
    });
    const pods = healthyCluster(c);
    pods[0]!.status!.phase = 'Failed';
    const plan = planCluster(c, pods, nodes(node('n1', true)), NOW);
    expect(plan.deletes.map((d) => d.name).sort()).to.deep.equal(['c-master', 'c-worker-0', 'c-worker-1']);
    expect(plan.intent).to.include({ masterRestarts: 1, clearMasterUid: true });
    const two = {
      ...c,
      status: {
        recovery: { masterRestartTimes: [new Date(NOW - 100_000).toISOString(), new Date(NOW - 50_000).toISOString()] },
      },
    } as ComputeCluster;
    const stalled = planCluster(two, pods, nodes(node('n1', true)), NOW);
    expect(stalled.stalled?.reason).to.equal('MasterRestartLimit');
    expect(stalled.deletes).to.deep.equal([]);
    expect(stalled.wakeAt).to.equal(NOW - 100_000 + 600_000); // when the window frees a restart
  });
  it('rolls workers within maxUnavailable, and recreates all at once with Recreate', () => {
    const old = cluster((x) => {
      x.spec.workers.replicas = 4;
    });
    const pods = healthyCluster(old, 4);
    const next = cluster((x) => {
      x.spec.workers.replicas = 4;
      x.spec.workers.template.spec.containers[0].image = 'v2';
    });
    expect(planCluster(next, pods, nodes(node('n1', true)), NOW).deletes.map((d) => d.reason)).to.deep.equal([
      'TemplateChanged',
    ]);
    const pct = cluster((x) => {
      x.spec.workers.replicas = 4;
      x.spec.workers.template.spec.containers[0].image = 'v2';
      x.spec.workers.updateStrategy = { maxUnavailable: '50%' };
    });
    expect(planCluster(pct, pods, nodes(node('n1', true)), NOW).deletes).to.have.length(2);
    const rec = cluster((x) => {
      x.spec.workers.replicas = 4;
      x.spec.workers.template.spec.containers[0].image = 'v2';
      x.spec.workers.updateStrategy = { type: 'Recreate' };
    });
    expect(planCluster(rec, pods, nodes(node('n1', true)), NOW).deletes).to.have.length(4);
    const ond = cluster((x) => {
      x.spec.workers.replicas = 4;
      x.spec.workers.template.spec.containers[0].image = 'v2';
      x.spec.workers.updateStrategy = { type: 'OnDelete' };
    });
    expect(planCluster(ond, pods, nodes(node('n1', true)), NOW).deletes).to.deep.equal([]);
    expect([maxUnavailableCount('25%', 4), maxUnavailableCount('10%', 4), maxUnavailableCount(3, 4)]).to.deep.equal([
      1, 1, 3,
    ]);
  });
});

describe('cluster status', () => {
  it('is Ready with all conditions when the cluster matches the spec', () => {
    const c = cluster();
    const plan = planCluster(c, healthyCluster(c), nodes(node('n1', true)), NOW);
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
    const plan = planCluster(c, healthyCluster(c), nodes(node('n1', true)), NOW);
    const s1 = computeClusterStatus(c, { plan, activeJobs: 0, now: new Date(NOW) });
    const s2 = computeClusterStatus({ ...c, status: s1 }, { plan, activeJobs: 0, now: new Date(NOW + 60_000) });
    expect(s2).to.deep.equal(s1);
  });
  it('computes the backoff', () => {
    expect([1, 2, 3, 4, 10].map((n) => backoffSeconds(n, { initialSeconds: 10, maxSeconds: 360 }))).to.deep.equal([
      10, 20, 40, 80, 360,
    ]);
    expect(backoffSeconds(0, {})).to.equal(0);
  });
});

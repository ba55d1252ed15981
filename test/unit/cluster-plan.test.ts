// The ComputeCluster builders and planner are pure: tested here without an API server.
// Each policy file (observe, master, workers, recovery) has its cases below, as tables
// where one behaviour has several inputs.
import { expect } from 'chai';
import { validateCluster, type ValidComputeCluster } from '../../src/api/v1alpha1/index.ts';
import { revisionHash } from '../../src/builders/hash.ts';
import {
  buildMasterPod,
  buildWorkerPod,
  hasCurrentWiring,
  isCurrentMaster,
  isCurrentWorker,
  masterRevision,
  revisionToRelabel,
  workerRevision,
} from '../../src/builders/pods.ts';
import { buildMasterService } from '../../src/builders/services.ts';
import { createsOf, deletesOf } from '../../src/controllers/computecluster/actions.ts';
import { claimPods, conflictMessage, whyNotAdoptable } from '../../src/controllers/computecluster/claim.ts';
import {
  desiredWorkerCount,
  holdPodWrites,
  maxUnavailableCount,
  planCluster,
  scaleDownOrder,
} from '../../src/controllers/computecluster/plan.ts';
import { Refusals } from '../../src/controllers/computecluster/refusals.ts';
import { computeClusterStatus } from '../../src/controllers/computecluster/status.ts';
import {
  NODE_GONE_QUARANTINE_MS,
  NODE_RECHECK_MS,
  nodeAbsence,
  podProblem,
  type LiveNodeRead,
  type NodeAbsence,
  type NodeLookup,
} from '../../src/controllers/common/podhealth.ts';
import { LiveNodeCheck } from '../../src/controllers/common/nodecheck.ts';
import { backoffSeconds } from '../../src/controllers/common/time.ts';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import {
  NOW,
  clusterPods,
  masterPod,
  node,
  nodes,
  withState,
  workerPod,
  timestamp,
  type PodState,
} from '../fixtures/pods.ts';
import { minimalCluster } from '../fixtures/specs.ts';
import { disagreement, liveChecks, type LiveCheck } from '../../src/controllers/computecluster/confirm.ts';

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
      GAFFER_WORKER_GROUP: 'worker',
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
  // Issue 11 #12: the revision hashes what the pod is built from, the master port of GAFFER_MASTER_* too.
  describe('revisions change with what the pods are built from', () => {
    const base = cluster();
    const cases: { name: string; mut: (x: any) => void; master: boolean; workers: boolean }[] = [
      { name: 'the worker count: neither', mut: (x) => (x.spec.workers.replicas = 9), master: false, workers: false },
      {
        name: 'the worker template: the workers',
        mut: (x) => (x.spec.workers.template.spec.containers[0].image = 'other'),
        master: false,
        workers: true,
      },
      {
        name: 'the master template: the master',
        mut: (x) => (x.spec.master.template.metadata = { annotations: { a: 'b' } }),
        master: true,
        workers: false,
      },
      {
        name: "the master template's port (GAFFER_MASTER_PORT): both",
        mut: (x) => (x.spec.master.template.spec.containers[0].ports[0].containerPort = 7001),
        master: true,
        workers: true,
      },
      {
        name: 'spec.master.ports with another first port: both',
        mut: (x) => (x.spec.master.ports = [{ name: 'rpc', port: 7001, targetPort: 7000 }]),
        master: true,
        workers: true,
      },
      {
        name: 'spec.master.ports with the same first port: neither',
        mut: (x) => (x.spec.master.ports = [{ name: 'rpc', port: 7000 }]),
        master: false,
        workers: false,
      },
      {
        name: 'a second master port: neither',
        mut: (x) =>
          (x.spec.master.ports = [
            { name: 'rpc', port: 7000 },
            { name: 'ui', port: 8080 },
          ]),
        master: false,
        workers: false,
      },
    ];
    for (const t of cases) {
      it(t.name, () => {
        const c = cluster(t.mut);
        expect(masterRevision(c) !== masterRevision(base), 'master revision changed').to.equal(t.master);
        expect(workerRevision(c) !== workerRevision(base), 'worker revision changed').to.equal(t.workers);
        expect(buildMasterPod(c).metadata!.labels!['compute.gaffer.dev/revision']).to.equal(masterRevision(c));
        expect(buildWorkerPod(c, 0, 1).metadata!.labels!['compute.gaffer.dev/revision']).to.equal(workerRevision(c));
      });
    }
  });
  describe('pods labelled before the revision covered the wiring (a template-only hash)', () => {
    const legacy = (pod: V1Pod, template: unknown): V1Pod => ({
      ...pod,
      metadata: {
        ...pod.metadata,
        labels: { ...pod.metadata!.labels, 'compute.gaffer.dev/revision': revisionHash(template) },
      },
    });
    const c = cluster();
    const cases: { name: string; mut: (x: any) => void; current: boolean }[] = [
      { name: 'same template: current (an operator upgrade restarts nothing)', mut: () => {}, current: true },
      {
        name: 'template changed since: outdated',
        mut: (x) => {
          x.spec.master.template.spec.containers[0].image = 'other';
          x.spec.workers.template.spec.containers[0].image = 'other';
        },
        current: false,
      },
    ];
    for (const t of cases) {
      it(t.name, () => {
        const old = cluster(t.mut);
        const master = legacy(buildMasterPod(c), old.spec.master.template);
        const worker = legacy(buildWorkerPod(c, 0, 1), old.spec.workers.template);
        expect(isCurrentMaster(c, master), 'master').to.equal(t.current);
        expect(isCurrentWorker(c, worker), 'worker').to.equal(t.current);
      });
    }
    it('a pod of the current revision is current; any other label is not', () => {
      expect(isCurrentWorker(c, buildWorkerPod(c, 3, 4))).to.equal(true);
      expect(isCurrentMaster(c, legacy(buildMasterPod(c), { other: true }))).to.equal(false);
    });
    it('a current one is to be relabelled with the full revision', () => {
      expect(revisionToRelabel(c, legacy(buildMasterPod(c), c.spec.master.template))).to.equal(masterRevision(c));
      expect(revisionToRelabel(c, legacy(buildWorkerPod(c, 2, 3), c.spec.workers.template))).to.equal(
        workerRevision(c),
      );
    });
    it('a pod of the full revision, an outdated one or a driver is not relabelled', () => {
      const old = cluster((x) => (x.spec.workers.template.spec.containers[0].image = 'other'));
      expect(revisionToRelabel(c, buildWorkerPod(c, 0, 1))).to.equal(undefined);
      expect(revisionToRelabel(c, legacy(buildWorkerPod(c, 0, 1), old.spec.workers.template))).to.equal(undefined);
      const driver = legacy(buildMasterPod(c), c.spec.master.template);
      driver.metadata!.labels!['compute.gaffer.dev/role'] = 'driver';
      expect(revisionToRelabel(c, driver)).to.equal(undefined);
    });
    describe('is relabelled only if its live GAFFER_* env is the current wiring (hasCurrentWiring)', () => {
      // The master port may change before the relabel (with the upgrade, while the operator is
      // down, while the relabel is held or refused): the label says nothing of the wiring.
      const moved = cluster((x) => (x.spec.master.ports = [{ name: 'rpc', port: 7078, targetPort: 7000 }]));
      const noPort = cluster((x) => delete x.spec.master.template.spec.containers[0].ports);
      const env = (pod: V1Pod, container = 0) => pod.spec!.containers[container]!.env!;
      const setEnv = (pod: V1Pod, name: string, value?: string) => {
        const e = env(pod).find((v) => v.name === name)!;
        if (value === undefined) delete e.value;
        else e.value = value;
        return pod;
      };
      const withTemplateEnv = (vars: any[]) =>
        cluster((x) => {
          x.spec.master.template.spec.containers[0].env = vars;
          x.spec.workers.template.spec.containers[0].env = vars;
        });
      const cases: {
        name: string;
        c?: ValidComputeCluster;
        live: (c: ValidComputeCluster) => V1Pod;
        wired: boolean;
      }[] = [
        { name: 'the master as built now', live: (c) => buildMasterPod(c), wired: true },
        { name: 'a worker as built now', live: (c) => buildWorkerPod(c, 1, 2), wired: true },
        {
          name: 'a worker made when there were fewer workers (GAFFER_WORKERS is no wiring)',
          live: (c) => buildWorkerPod(c, 1, 9),
          wired: true,
        },
        { name: 'the master on an older port', c: moved, live: () => buildMasterPod(c), wired: false },
        { name: 'a worker on an older port', c: moved, live: () => buildWorkerPod(c, 0, 2), wired: false },
        {
          name: 'a worker wired to no port, which there is now',
          live: () => buildWorkerPod(noPort, 0, 2),
          wired: false,
        },
        {
          name: 'a worker wired to a port, which there is no more',
          c: noPort,
          live: () => buildWorkerPod(c, 0, 2),
          wired: false,
        },
        {
          name: 'a worker with another index in its env than in its label',
          live: (c) => setEnv(buildWorkerPod(c, 0, 2), 'GAFFER_WORKER_INDEX', '1'),
          wired: false,
        },
        {
          name: 'a pod missing a variable',
          live: (c) => {
            const p = buildMasterPod(c);
            p.spec!.containers[0]!.env = env(p).filter((e) => e.name !== 'GAFFER_MASTER_ADDR');
            return p;
          },
          wired: false,
        },
        {
          name: 'a variable the template sets itself keeps its value',
          c: withTemplateEnv([{ name: 'GAFFER_ROLE', value: 'user-set' }]),
          live: (c) => buildMasterPod(c),
          wired: true,
        },
        {
          name: 'an empty value, which the API server drops',
          c: withTemplateEnv([{ name: 'GAFFER_EXTRA', value: '' }]),
          live: (c) => setEnv(buildWorkerPod(c, 0, 2), 'GAFFER_EXTRA'),
          wired: true,
        },
        {
          name: 'a variable of the template set from a field, as the API server defaults it',
          c: withTemplateEnv([{ name: 'GAFFER_MASTER_HOST', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }]),
          live: (c) => {
            const p = buildMasterPod(c);
            env(p)[0]!.valueFrom = { fieldRef: { apiVersion: 'v1', fieldPath: 'status.podIP' } };
            return p;
          },
          wired: true,
        },
        {
          name: 'an init container without the wiring',
          c: cluster((x) => (x.spec.workers.template.spec.initContainers = [{ name: 'init', image: 'busybox' }])),
          live: (c) => {
            const p = buildWorkerPod(c, 0, 2);
            p.spec!.initContainers![0]!.env = [];
            return p;
          },
          wired: false,
        },
        {
          name: 'a driver (not a master or worker)',
          live: (c) => {
            const p = buildMasterPod(c);
            p.metadata!.labels!['compute.gaffer.dev/role'] = 'driver';
            return p;
          },
          wired: false,
        },
      ];
      for (const t of cases) {
        it(t.name, () => {
          const now = t.c ?? c;
          expect(hasCurrentWiring(now, t.live(now))).to.equal(t.wired);
        });
      }
    });
    it('a template-only pod found to lack the current wiring is outdated; one of the full revision is not', () => {
      const stale = new Set(['uid-c-master', 'uid-c-worker-0']);
      const master = legacy(masterPod(c), c.spec.master.template);
      const worker = legacy(workerPod(c, 0), c.spec.workers.template);
      expect(isCurrentMaster(c, master, stale)).to.equal(false);
      expect(isCurrentWorker(c, worker, stale)).to.equal(false);
      expect(isCurrentWorker(c, legacy(workerPod(c, 1), c.spec.workers.template), stale)).to.equal(true);
      expect(isCurrentMaster(c, masterPod(c), stale)).to.equal(true);
    });
    it('plans the master and the workers of an older wiring to be replaced, the others kept', () => {
      const pods = [
        legacy(masterPod(c, { ready: true }), c.spec.master.template),
        ...[0, 1].map((i) => legacy(workerPod(c, i, { ready: true }), c.spec.workers.template)),
      ];
      const plan = planCluster(c, pods, up, NOW, new Set(['uid-c-master', 'uid-c-worker-1']));
      expect(deleted(plan).map((d) => [d.name, d.reason])).to.deep.equal([
        ['c-master', 'TemplateChanged'],
        ['c-worker-1', 'TemplateChanged'],
      ]);
      expect(deleted(planCluster(c, pods, up, NOW)), 'not read live: all current').to.deep.equal([]);
      const status = computeClusterStatus(c, { plan, activeJobs: 0, now: new Date(NOW) });
      expect(status.workers?.updatedReplicas).to.equal(1);
    });
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
    // Its replacement fails within the streak: waits initialSeconds (10) after the last one.
    const c2 = { ...c, status: { recovery: plan.intent?.recovery } };
    const next = [
      masterPod(c),
      workerPod(c, 0, { of: 2, phase: 'Failed', uid: 'uid-next' }),
      workerPod(c, 1, { of: 2 }),
    ];
    const later = planCluster(c2, next, up, NOW + 5000);
    expect(deleted(later)).to.deep.equal([]);
    expect(later.wakeAt).to.equal(NOW + 10_000);
    expect(deleted(planCluster(c2, next, up, NOW + 10_000))).to.have.length(1);
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

describe('workers policy: RollingUpdate replaces outdated unhealthy workers first (issue 11 #2)', () => {
  const spec = (maxUnavailable: number | string, image?: string) =>
    cluster((x) => {
      x.spec.workers.replicas = 4;
      x.spec.workers.updateStrategy = { type: 'RollingUpdate', maxUnavailable };
      if (image) x.spec.workers.template.spec.containers[0].image = image;
    });
  const old = spec(1);
  const pullError = { phase: 'Pending', ready: false, waiting: 'ImagePullBackOff' } as const;
  const cases: {
    name: string;
    maxUnavailable: number | string;
    states: PodState[];
    current?: number[];
    want: string[];
  }[] = [
    { name: 'all Ready: one at a time', maxUnavailable: 1, states: [{}, {}, {}, {}], want: ['c-worker-3'] },
    {
      name: 'two stuck in ImagePullBackOff: both, beyond maxUnavailable, and no Ready one',
      maxUnavailable: 1,
      states: [pullError, {}, pullError, {}],
      want: ['c-worker-2', 'c-worker-0'],
    },
    {
      name: 'all stuck in ImagePullBackOff: all of them',
      maxUnavailable: 1,
      states: [pullError, pullError, pullError, pullError],
      want: ['c-worker-3', 'c-worker-2', 'c-worker-1', 'c-worker-0'],
    },
    {
      name: 'one not Ready, maxUnavailable 2: it, then one Ready',
      maxUnavailable: 2,
      states: [{}, { ready: false }, {}, {}],
      want: ['c-worker-1', 'c-worker-3'],
    },
    {
      name: 'an updated worker not Ready yet uses up the budget of the Ready outdated ones',
      maxUnavailable: 1,
      states: [{}, {}, {}, { ready: false }],
      current: [3],
      want: [],
    },
  ];
  for (const t of cases) {
    it(t.name, () => {
      const c = spec(t.maxUnavailable, 'v2');
      const pods = [
        masterPod(c),
        ...t.states.map((st, i) => workerPod(t.current?.includes(i) ? c : old, i, { of: 4, ...st })),
      ];
      const del = deleted(planCluster(c, pods, up, NOW));
      expect(del.map((d) => d.name)).to.deep.equal(t.want);
      expect(del.every((d) => d.reason === 'TemplateChanged')).to.equal(true);
    });
  }
});

describe('workers policy: scale-down takes broken workers first (issue 11 #5)', () => {
  const c = cluster((x) => {
    x.spec.workers.replicas = 2;
  });
  // A replacement 1 s ago: the next one waits for the backoff (10 s).
  const inStreak = {
    ...c,
    status: { recovery: { failureStreak: 1, lastFailureTime: new Date(NOW - 1000).toISOString() } },
  };
  const crashing: PodState = { ready: false, restarts: 50, startedAgoS: 60 };
  const cases: { name: string; c: ValidComputeCluster; states: PodState[]; want: [string, string][] }[] = [
    { name: 'none broken: the highest index', c: inStreak, states: [{}, {}, {}], want: [['c-worker-2', 'ScaleDown']] },
    {
      name: 'a failed worker waiting for its backoff',
      c: inStreak,
      states: [{ phase: 'Failed' }, {}, {}],
      want: [['c-worker-0', 'ScaleDown']],
    },
    {
      name: 'a crash-looping worker waiting for its backoff, before a cheaper Ready one',
      c: inStreak,
      states: [{ deletionCost: -100 }, crashing, {}],
      want: [['c-worker-1', 'ScaleDown']],
    },
    {
      name: 'a broken worker the backoff lets go is replaced, and no healthy one goes',
      c,
      states: [{ phase: 'Failed' }, {}, {}],
      want: [['c-worker-0', 'PodFailed']],
    },
  ];
  for (const t of cases) {
    it(t.name, () => {
      const pods = [masterPod(c), ...t.states.map((st, i) => workerPod(c, i, { of: 3, ...st }))];
      const plan = planCluster(t.c, pods, up, NOW);
      expect(deleted(plan).map((d) => [d.name, d.reason])).to.deep.equal(t.want);
      expect(created(plan)).to.deep.equal([]);
    });
  }
  it('orders broken, then not Ready, then deletion cost, then highest index', () => {
    const mk = (index: number, st: PodState = {}) => ({ pod: workerPod(c, index, { of: 4, ...st }), index });
    const pods = [mk(0, { deletionCost: -5 }), mk(1, { ready: false }), mk(2), mk(3)];
    const broken = (p: V1Pod) => p.metadata!.name === 'c-worker-2';
    expect(scaleDownOrder(pods, broken).map((x) => x.index)).to.deep.equal([2, 1, 0, 3]);
  });
});

describe('workers policy: terminating leftovers do not block replacements (issue 11 #8)', () => {
  const c = cluster((x) => {
    x.spec.workers.replicas = 2;
  });
  const cases: {
    name: string;
    states: (PodState | undefined)[];
    create: string[];
    deleted?: string[];
    wakeAt?: number;
  }[] = [
    {
      name: 'a scaled-down worker stuck terminating beyond the desired indices: the failed one comes back',
      states: [undefined, {}, { terminating: 5 }],
      create: ['c-worker-0'],
    },
    {
      name: 'a worker being replaced keeps its name until it is gone (woken when overdue)',
      states: [{ terminating: 5 }, {}],
      create: [],
      wakeAt: NOW - 5000 + 30_000,
    },
    {
      name: 'both: the replacement still waits for its own name',
      states: [{ terminating: 5 }, {}, { terminating: 5 }],
      create: [],
      wakeAt: NOW - 5000 + 30_000,
    },
    {
      name: 'a worker overdue past its deletionTimestamp (a finalizer) holds nothing up',
      states: [{ terminating: 60 }, {}],
      create: ['c-worker-2'],
    },
    {
      name: 'a worker stuck terminating on a lost node is force-deleted now: its replacement waits for its name',
      states: [{ terminating: 600, node: 'dead' }, {}],
      create: [],
      deleted: ['c-worker-0'],
    },
  ];
  for (const t of cases) {
    it(t.name, () => {
      const workers = t.states.flatMap((st, i) => (st ? [workerPod(c, i, { of: 2, ...st })] : []));
      const lost = nodes(node('n1'), node('dead', { ready: false, sinceS: 600 }));
      const plan = planCluster(c, [masterPod(c), ...workers], lost, NOW);
      expect(created(plan).map((p) => p.metadata!.name)).to.deep.equal(t.create);
      expect(deleted(plan).map((d) => d.name)).to.deep.equal(t.deleted ?? []);
      expect(plan.wakeAt).to.equal(t.wakeAt);
    });
  }
});

describe('a counted delete that failed is sent again, not counted again (issue 11 #1)', () => {
  const policy = (action: string, maxRestarts: number) => (x: any) => {
    x.spec.master.failurePolicy = { action, maxRestarts, windowSeconds: 600 };
    x.spec.workers.replicas = 2;
  };
  const failedMaster = (c: ValidComputeCluster) => [masterPod(c, { phase: 'Failed' }), ...clusterPods(c, 2).slice(1)];
  const failedWorker = (c: ValidComputeCluster) => [
    masterPod(c),
    workerPod(c, 0, { of: 2, phase: 'Failed' }),
    workerPod(c, 1, { of: 2 }),
  ];
  const cases: {
    name: string;
    mut: (x: any) => void;
    pods: (c: ValidComputeCluster) => V1Pod[];
    retiring: string[];
    deletes: string[];
  }[] = [
    {
      name: 'a lost master (RecreateMaster, maxRestarts 1)',
      mut: policy('RecreateMaster', 1),
      pods: failedMaster,
      retiring: ['c-master'],
      deletes: ['c-master'],
    },
    {
      name: 'a lost master with RestartCluster: the master and every worker',
      mut: policy('RestartCluster', 1),
      pods: failedMaster,
      retiring: ['c-master', 'c-worker-0', 'c-worker-1'],
      deletes: ['c-master', 'c-worker-0', 'c-worker-1'],
    },
    {
      name: 'a failed worker',
      mut: policy('RecreateMaster', 5),
      pods: failedWorker,
      retiring: ['c-worker-0'],
      deletes: ['c-worker-0'],
    },
  ];
  for (const t of cases) {
    it(`${t.name}: recorded by uid, then sent again on the retry with the same counts and no backoff`, () => {
      const c = cluster(t.mut);
      const pods = t.pods(c);
      const first = planCluster(c, pods, up, NOW);
      const retiring = first.intent?.recovery.retiring ?? [];
      expect(retiring.map((r) => r.name).sort()).to.deep.equal(t.retiring);
      for (const r of retiring) expect(r.uid).to.equal(`uid-${r.name}`);
      // The delete failed: the same pods are seen again a moment later, with the intent in status.
      const after = {
        ...c,
        status: { recovery: first.recovery, master: { uid: '', restarts: first.intent?.masterRestarts } },
      };
      const retry = planCluster(after as ValidComputeCluster, pods, up, NOW + 100);
      expect(
        deleted(retry)
          .map((d) => d.name)
          .sort(),
      ).to.deep.equal(t.deletes);
      expect(deleted(retry).every((d) => d.uid === `uid-${d.name}`)).to.equal(true);
      expect(retry.stalled).to.equal(undefined);
      expect(retry.intent?.masterRestarts).to.equal(undefined); // not counted again
      expect(retry.recovery).to.deep.equal(first.recovery); // the same counts, the same streak
      expect(created(retry)).to.deep.equal([]);
    });
  }
  it('drops a retirement once its pod is terminating or gone, and a newer pod of that name is judged afresh', () => {
    const c = cluster(policy('RecreateMaster', 5));
    const first = planCluster(c, failedWorker(c), up, NOW);
    const after = { ...c, status: { recovery: first.recovery } } as ValidComputeCluster;
    const leaving = [
      masterPod(c),
      workerPod(c, 0, { of: 2, phase: 'Failed', terminating: true }),
      workerPod(c, 1, { of: 2 }),
    ];
    expect(planCluster(after, leaving, up, NOW + 100).recovery?.retiring).to.equal(undefined);
    // Its replacement (another uid) fails: a new loss, counted, after the backoff.
    const replacement = [
      masterPod(c),
      workerPod(c, 0, { of: 2, phase: 'Failed', uid: 'uid-new' }),
      workerPod(c, 1, { of: 2 }),
    ];
    const again = planCluster(after, replacement, up, NOW + 20_000);
    expect(deleted(again).map((d) => d.uid)).to.deep.equal(['uid-new']);
    expect(again.recovery?.podsReplaced).to.equal(2);
  });
});

describe('claiming pods: adopt matching orphans, report the others (issue 11 #14)', () => {
  const c = cluster();
  const orphan = (p: V1Pod, mut: (p: V1Pod) => void = () => {}) => {
    const o = structuredClone(p);
    o.metadata!.ownerReferences = [];
    mut(o);
    return o;
  };
  const cases: { name: string; pod: V1Pod; claimed: 'owned' | 'adopt' | 'no'; why?: RegExp }[] = [
    { name: 'a pod the cluster controls', pod: masterPod(c), claimed: 'owned' },
    { name: "an orphan master with Gaffer's labels", pod: orphan(masterPod(c)), claimed: 'adopt' },
    { name: "an orphan worker with Gaffer's labels", pod: orphan(workerPod(c, 3, { of: 4 })), claimed: 'adopt' },
    {
      name: 'a pod controlled by another object',
      pod: orphan(masterPod(c), (p) => {
        p.metadata!.ownerReferences = [
          { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u', controller: true },
        ];
      }),
      claimed: 'no',
      why: /controlled by ReplicaSet rs/,
    },
    {
      name: 'an orphan being deleted',
      pod: orphan(workerPod(c, 0, { of: 1, terminating: true })),
      claimed: 'no',
      why: /being deleted/,
    },
    {
      name: 'an orphan whose index label does not match its name',
      pod: orphan(workerPod(c, 0, { of: 1 }), (p) => {
        p.metadata!.labels!['compute.gaffer.dev/worker-index'] = '7';
      }),
      claimed: 'no',
      why: /labels for that role and index/,
    },
    {
      name: 'a pod without Gaffer labels holding the master name',
      pod: { metadata: { name: 'c-master', namespace: 'ns', uid: 'x', labels: { app: 'other' } } },
      claimed: 'no',
      why: /labels for that role and index/,
    },
    {
      name: "an orphan of another cluster's",
      pod: orphan(masterPod(cluster((x) => (x.metadata.name = 'other')))),
      claimed: 'no',
      why: /labels for that role and index/,
    },
  ];
  for (const t of cases) {
    it(`${t.name}: ${t.claimed === 'no' ? 'not adoptable' : t.claimed}`, () => {
      const claim = claimPods(c, [t.pod]);
      expect(claim.owned.length, 'owned').to.equal(t.claimed === 'owned' ? 1 : 0);
      expect(claim.adopt.length, 'adopted').to.equal(t.claimed === 'adopt' ? 1 : 0);
      if (t.why) expect(whyNotAdoptable(c, t.pod)).to.match(t.why);
    });
  }
  it('names the pod and why in the PodConflict message', () => {
    expect(conflictMessage([{ pod: 'c-worker-2', why: 'it is controlled by ReplicaSet rs' }])).to.match(
      /^pod c-worker-2 exists and is not controlled by this ComputeCluster: it is controlled by ReplicaSet rs/,
    );
  });
});

describe('plans held while the cache lags its own writes (issue 11 #13)', () => {
  const c = cluster((x) => (x.spec.workers.replicas = 4));
  const waiting = { creates: 0, deletes: 1, deleting: new Set<string>(), expiresAt: NOW + 300_000 };
  const cases: { name: string; pods: V1Pod[] }[] = [
    // Scaled 5 -> 4, worker 4 deleted, the cache still shows it and worker 1 is now not Ready.
    {
      name: 'a scale-down whose delete the cache does not show yet',
      pods: [
        masterPod(c),
        ...[0, 2, 3, 4].map((i) => workerPod(c, i, { of: 5 })),
        workerPod(c, 1, { of: 5, ready: false }),
      ],
    },
    { name: 'a replacement not yet seen', pods: [masterPod(c), workerPod(c, 0, { of: 4, phase: 'Failed' })] },
  ];
  for (const t of cases) {
    it(`${t.name}: no create, delete, event or intent, and a wake-up when the expectations expire`, () => {
      const plan = planCluster(c, t.pods, up, NOW);
      expect(plan.actions.length, 'the unheld plan acts').to.be.greaterThan(0);
      const held = holdPodWrites(c, plan, waiting);
      expect([held.actions, held.intent, held.held]).to.deep.equal([[], undefined, true]);
      expect(held.wakeAt).to.be.at.most(waiting.expiresAt);
      expect(held.progress.at(-1)).to.equal('waiting for the cache to show 0 pod create(s) and 1 delete(s)');
    });
  }
  // Seen in the soak: a held reconcile wrote the deleted master's uid back into status, and the
  // next one, with the pod gone, counted a master that "disappeared".
  it('does not write back the uid of a master whose delete the cache does not show yet', () => {
    const m = masterPod(c);
    const gone = cluster((x) => {
      x.spec.workers.replicas = 4;
      x.status = {
        master: { podName: 'c-master', serviceName: 'c-master', endpoint: '', ready: false, restarts: 1, uid: '' },
      };
    });
    const plan = planCluster(gone, [m, ...[0, 1, 2, 3].map((i) => workerPod(c, i, { of: 4 }))], up, NOW);
    const held = holdPodWrites(gone, plan, { ...waiting, deleting: new Set([m.metadata!.uid!]) });
    const status = computeClusterStatus(gone, { plan: held, activeJobs: 0, now: new Date(NOW) });
    expect(status.master?.uid, 'the uid of the pod being deleted').to.equal('');
    const unheld = computeClusterStatus(gone, { plan, activeJobs: 0, now: new Date(NOW) });
    expect(unheld.master?.uid, 'a live master is recorded').to.equal(m.metadata!.uid);
  });
});

/** No node in the cache; node n1 confirmed gone by the API server since `ms` ago. */
const goneFor = (ms: number): NodeLookup & Map<string, V1Node> =>
  Object.assign(nodes(), { goneSince: (n: string) => (n === 'n1' ? NOW - ms : undefined) });

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
    // Issue 11 #11: how long the container has been running, not restarts over the pod's age.
    {
      name: 'many restarts, then running for longer than the window: recovered',
      pod: withState(w, { restarts: 50, startedAgoS: 700, runningForS: 650 }),
      nodes: up,
      want: {},
    },
    {
      name: 'many restarts early, running since inside the window: only those in the window count (10 * 50/100 s)',
      pod: withState(w, { restarts: 10, startedAgoS: 650, runningForS: 550 }),
      nodes: up,
      want: {},
    },
    {
      name: 'twice as many early restarts: 10 in the window is a crash loop',
      pod: withState(w, { restarts: 20, startedAgoS: 650, runningForS: 550 }),
      nodes: up,
      want: { reason: 'CrashLoop' },
    },
    {
      name: 'many restarts and waiting to run again after a crash just now: a crash loop',
      pod: withState(w, { restarts: 50, startedAgoS: 700, ready: false, waiting: 'CrashLoopBackOff', lastExitAgoS: 1 }),
      nodes: up,
      want: { reason: 'CrashLoop' },
    },
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
    // Issue 11 #9: the cache's word alone is never enough to call a node deleted.
    { name: 'a node absent from the cache, not confirmed gone', pod: withState(w), nodes: nodes(), want: {} },
    {
      name: 'a node confirmed gone, within the quarantine',
      pod: withState(w),
      nodes: goneFor(NODE_GONE_QUARANTINE_MS - 1),
      want: {},
    },
    {
      name: 'a node confirmed gone for the quarantine',
      pod: withState(w),
      nodes: goneFor(NODE_GONE_QUARANTINE_MS),
      want: { reason: 'NodeLost' },
    },
  ];
  for (const t of cases) {
    it(t.name, () => {
      const { problem } = podProblem(t.pod, t.nodes, r, NOW);
      if ('reason' in t.want) expect(problem?.reason).to.equal(t.want.reason);
      else expect(problem).to.equal(undefined);
    });
  }
  describe("a node's loss counts from the pod's arrival when it came after the node went NotReady", () => {
    const notReady61 = nodes(node('n1', { ready: false, sinceS: 61 }));
    const arrived = (how: 'scheduled' | 'created', agoS: number) => {
      const p = withState(w);
      const at = new Date(NOW - agoS * 1000).toISOString();
      if (how === 'created') p.metadata!.creationTimestamp = at as unknown as Date;
      else
        p.status!.conditions!.push({ type: 'PodScheduled', status: 'True', lastTransitionTime: at as unknown as Date });
      return p;
    };
    const cases: { name: string; pod: ReturnType<typeof withState>; want: object }[] = [
      {
        name: 'bound 10 s ago to a node NotReady for 61 s: lost only 60 s after binding',
        pod: arrived('scheduled', 10),
        want: { nodeLossAt: NOW + 50_000 },
      },
      {
        name: 'created 10 s ago (no PodScheduled time): from its creation',
        pod: arrived('created', 10),
        want: { nodeLossAt: NOW + 50_000 },
      },
      {
        name: "bound before the node went NotReady: from the node's transition",
        pod: arrived('scheduled', 300),
        want: { reason: 'NodeLost' },
      },
    ];
    for (const t of cases)
      it(t.name, () => {
        const h = podProblem(t.pod, notReady61, r, NOW);
        if ('reason' in t.want) expect(h.problem?.reason).to.equal(t.want.reason);
        else expect(h).to.deep.equal(t.want);
      });
  });
  it('a node absent from the cache and not confirmed gone: judged again shortly, nothing deleted', () => {
    expect(podProblem(withState(w), nodes(), r, NOW)).to.deep.equal({ nodeLossAt: NOW + NODE_RECHECK_MS });
  });
  it('a node confirmed gone within the quarantine: when the quarantine ends', () => {
    expect(podProblem(withState(w), goneFor(10_000), r, NOW)).to.deep.equal({
      nodeLossAt: NOW + NODE_GONE_QUARANTINE_MS - 10_000,
    });
  });
  describe('nodeAbsence (a node absent from the cache, after a live read)', () => {
    const cases: { name: string; first?: number; live: LiveNodeRead; want: NodeAbsence }[] = [
      { name: 'first seen missing, 404: gone from now', live: 'notFound', want: { firstMissing: NOW, goneSince: NOW } },
      {
        name: 'missing before, 404: gone since first seen missing',
        first: NOW - 30_000,
        live: 'notFound',
        want: { firstMissing: NOW - 30_000, goneSince: NOW - 30_000 },
      },
      {
        name: 'exists live: the cache is stale, the quarantine starts over',
        first: NOW - 30_000,
        live: 'found',
        want: {},
      },
      {
        name: 'read failed: unconfirmed, first seen kept',
        first: NOW - 30_000,
        live: 'failed',
        want: { firstMissing: NOW - 30_000 },
      },
      { name: 'first seen missing, read failed: unconfirmed', live: 'failed', want: { firstMissing: NOW } },
    ];
    for (const t of cases) it(t.name, () => expect(nodeAbsence(t.first, t.live, NOW)).to.deep.equal(t.want));
  });
  describe('LiveNodeCheck (first seen missing, across reconciles)', () => {
    it('reads only the nodes the cache lacks, and counts the quarantine from the first time one was seen missing', async () => {
      const check = new LiveNodeCheck(nodes(node('n1')));
      const reads: string[] = [];
      const gone = async (n: string): Promise<LiveNodeRead> => (reads.push(n), 'notFound');
      const pods = [withState(w), { ...withState(w), spec: { ...w.spec!, nodeName: 'n2' } }];
      await check.lookup(pods, NOW - 30_000, gone);
      const later = await check.lookup(pods, NOW, gone);
      expect(reads).to.deep.equal(['n2', 'n2']);
      expect(later.goneSince?.('n2')).to.equal(NOW - 30_000);
      expect(later.goneSince?.('n1')).to.equal(undefined);
    });
    it('a node found live is not missing: its quarantine starts over', async () => {
      const check = new LiveNodeCheck(nodes());
      const pods = [withState(w)];
      await check.lookup(pods, NOW - 30_000, async () => 'notFound');
      expect((await check.lookup(pods, NOW - 20_000, async () => 'found')).goneSince?.('n1')).to.equal(undefined);
      expect((await check.lookup(pods, NOW, async () => 'notFound')).goneSince?.('n1')).to.equal(NOW);
    });
  });
  it('a node that never reported Ready counts from its registration, not from now (else it is never lost)', () => {
    const silent = (createdAgoS: number) =>
      nodes({ metadata: { name: 'n1', creationTimestamp: timestamp(NOW - createdAgoS * 1000) }, status: {} });
    expect(podProblem(withState(w), silent(61), r, NOW).problem?.reason).to.equal('NodeLost');
    expect(podProblem(withState(w), silent(30), r, NOW)).to.deep.equal({ nodeLossAt: NOW + 30_000 });
  });
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
      'ServicesReady=True',
      'DisruptionBudgetsReady=True',
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
  it('reports a refused Service with the server message, and the pods still count (issue 11 #3)', () => {
    const c = cluster();
    const plan = planCluster(c, clusterPods(c, 2), up, NOW);
    const serviceError = 'Service c-master: exceeded quota: q, requested: services.loadbalancers=1';
    const s = computeClusterStatus(c, { plan, activeJobs: 0, now: new Date(NOW), serviceError });
    const byType = Object.fromEntries(s.conditions!.map((x) => [x.type, x]));
    expect(byType.ServicesReady).to.include({ status: 'False', reason: 'ServiceRefused', message: serviceError });
    expect(byType.Ready).to.include({ status: 'False', reason: 'ServiceRefused', message: serviceError });
    expect(byType.MasterReady!.status).to.equal('True');
    expect(s.workers).to.deep.include({ replicas: 2, readyReplicas: 2 });
    expect(s.phase).to.equal('Pending');
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

describe('refused writes (issue 11 #3)', () => {
  const backoff = { initialSeconds: 2, maxSeconds: 8 };
  it('reports a refusal during its backoff, doubling, and retries at once after a spec change', () => {
    const r = new Refusals();
    expect(r.record('ns/c', 'no', NOW, backoff, 1).retryAt).to.equal(NOW + 2000);
    expect(r.pending('ns/c', NOW + 1999, 1)?.message).to.equal('no');
    expect(r.pending('ns/c', NOW + 2000, 1)).to.equal(undefined);
    expect(r.pending('ns/c', NOW, 2), 'a new generation is tried at once').to.equal(undefined);
    expect(r.record('ns/c', 'no', NOW, backoff, 1).retryAt).to.equal(NOW + 4000);
    expect(r.message('ns/c')).to.equal('no');
    r.clear('ns/c');
    expect(r.retryAt('ns/c')).to.equal(undefined);
  });
});

describe('what a plan counts is confirmed live first (a pod cache behind the cluster cache)', () => {
  const c = cluster((x) => (x.spec.workers.replicas = 2));
  const withMaster = (st: ValidComputeCluster['status']) => ({ ...c, status: st }) as ValidComputeCluster;
  const failedMaster = [masterPod(c, { phase: 'Failed' }), ...clusterPods(c, 2).slice(1)];
  const checksOf = (x: ValidComputeCluster, pods: V1Pod[]) => liveChecks(x, planCluster(x, pods, up, NOW));
  it('a failed master: its pod, by uid', () => {
    expect(checksOf(c, failedMaster)).to.deep.equal([{ name: 'c-master', uid: 'uid-c-master' }]);
  });
  it('a master that disappeared (status has its uid, the cache none): that there is none', () => {
    const x = withMaster({ master: { uid: 'uid-old', podName: 'c-master' } } as any);
    expect(checksOf(x, clusterPods(x, 2).slice(1))).to.deep.equal([{ name: 'c-master' }]);
  });
  it('a delete retried (counted before): nothing to confirm', () => {
    const first = planCluster(c, failedMaster, up, NOW);
    const x = withMaster({ ...c.status, recovery: first.intent!.recovery, master: { restarts: 1 } } as any);
    expect(checksOf(x, failedMaster)).to.deep.equal([]);
  });
  it('a healthy cluster: nothing', () => {
    expect(checksOf(c, clusterPods(c, 2))).to.deep.equal([]);
  });
  const live = masterPod(c, { phase: 'Failed' });
  const cases: { name: string; check: LiveCheck; live?: V1Pod; behind: boolean }[] = [
    { name: 'the same pod, live', check: { name: 'c-master', uid: 'uid-c-master' }, live, behind: false },
    { name: 'gone live', check: { name: 'c-master', uid: 'uid-c-master' }, behind: true },
    { name: 'another pod live', check: { name: 'c-master', uid: 'uid-older' }, live, behind: true },
    {
      name: 'being deleted live',
      check: { name: 'c-master', uid: 'uid-c-master' },
      live: masterPod(c, { terminating: true }),
      behind: true,
    },
    { name: 'none expected, none live', check: { name: 'c-master' }, behind: false },
    {
      name: 'none expected, one live (a replacement the cache has not shown)',
      check: { name: 'c-master' },
      live,
      behind: true,
    },
  ];
  for (const t of cases)
    it(`disagreement: ${t.name}`, () => expect(!!disagreement(t.check, t.live)).to.equal(t.behind));
});

// spec.workerGroups: validation, the builders and the planner per group (pure, no API server).
import { expect } from 'chai';
import { validateCluster, validateJob, type ValidComputeCluster } from '../../src/api/v1alpha1/index.ts';
import { buildWorkerPod, isCurrentWorker, masterRevision, workerRevision } from '../../src/builders/pods.ts';
import { buildWorkersService } from '../../src/builders/services.ts';
import { groupNamed } from '../../src/builders/groups.ts';
import { LABELS } from '../../src/builders/labels.ts';
import { createsOf, deletesOf } from '../../src/controllers/computecluster/actions.ts';
import { planCluster } from '../../src/controllers/computecluster/plan.ts';
import { computeClusterStatus } from '../../src/controllers/computecluster/status.ts';
import type { V1Pod } from '@kubernetes/client-node';
import { NOW, masterPod, node, nodes, withState, type PodState } from '../fixtures/pods.ts';
import { minimalCluster, minimalJob } from '../fixtures/specs.ts';

const gpuGroup = (over: Record<string, unknown> = {}) => ({
  name: 'gpu',
  replicas: 2,
  template: { spec: { containers: [{ name: 'w', image: 'gpu:1', ports: [{ name: 'nccl', containerPort: 9000 }] }] } },
  ...over,
});

/** minimalCluster() as c in ns with the given groups (and `mut`), validated and defaulted. */
function cluster(groups: unknown[] = [gpuGroup()], mut: (c: any) => void = () => {}): ValidComputeCluster {
  const c = minimalCluster();
  c.metadata = { name: 'c', namespace: 'ns', uid: 'uid-c', generation: 1 };
  c.spec.workers.replicas = 1;
  c.spec.workerGroups = groups;
  mut(c);
  const r = validateCluster(c);
  expect(r.errors).to.deep.equal([]);
  return r.value;
}

const errorsOf = (groups: unknown[], name = 'c') => {
  const c = minimalCluster();
  c.metadata = { name, namespace: 'ns' };
  c.spec.workerGroups = groups;
  return validateCluster(c).errors;
};

/** Worker `index` of group `group` as the builder makes it, in state `s` (GAFFER_WORKERS `of`). */
const groupPod = (c: ValidComputeCluster, group: string, index: number, s: PodState = {}, of = 2): V1Pod =>
  withState(buildWorkerPod(c, index, of, groupNamed(c, group)), s);

const up = nodes(node('n1'));
const names = (pods: V1Pod[]) => pods.map((p) => p.metadata!.name).sort();
const plan = (c: ValidComputeCluster, pods: V1Pod[]) => planCluster(c, pods, up, NOW);

describe('worker groups: validation', () => {
  const cases: { name: string; groups: unknown[]; clusterName?: string; field: string; says: RegExp }[] = [
    {
      name: 'a dash in the name',
      groups: [gpuGroup({ name: 'big-gpu' })],
      field: 'spec.workerGroups[0].name',
      says: /pattern|match/,
    },
    {
      name: 'the default group name',
      groups: [gpuGroup({ name: 'worker' })],
      field: 'spec.workerGroups[0].name',
      says: /taken/,
    },
    {
      name: 'the master name',
      groups: [gpuGroup({ name: 'master' })],
      field: 'spec.workerGroups[0].name',
      says: /taken/,
    },
    {
      name: 'the driver name',
      groups: [gpuGroup({ name: 'driver' })],
      field: 'spec.workerGroups[0].name',
      says: /taken/,
    },
    { name: 'a name twice', groups: [gpuGroup(), gpuGroup()], field: 'spec.workerGroups', says: /unique/ },
    {
      name: 'minReplicas above maxReplicas',
      groups: [gpuGroup({ minReplicas: 3, maxReplicas: 2 })],
      field: 'spec.workerGroups[0].minReplicas',
      says: /must not exceed/,
    },
    {
      name: 'cluster and group names too long together',
      groups: [gpuGroup({ name: 'abcdefghijklmno' })],
      clusterName: 'c'.repeat(45),
      field: 'metadata.name',
      says: /<name>-<group>-<index>/,
    },
    {
      name: 'a bad disruption budget',
      groups: [gpuGroup({ disruptionBudget: { maxUnavailable: '150%' } })],
      field: 'spec.workerGroups[0].disruptionBudget.maxUnavailable',
      says: /percentage/,
    },
  ];
  for (const t of cases)
    it(`refuses ${t.name}, naming the field`, () => {
      const errors = errorsOf(t.groups, t.clusterName);
      const e = errors.find((x) => x.field === t.field);
      expect(e, JSON.stringify(errors)).to.not.equal(undefined);
      expect(e!.message).to.match(t.says);
    });

  it('accepts the longest names that keep <cluster>-<group>-9999 a DNS label (63)', () => {
    const groups = [gpuGroup({ name: 'abcdefghijklmno' })];
    expect(errorsOf(groups, 'c'.repeat(42))).to.deep.equal([]);
    expect(`${'c'.repeat(42)}-abcdefghijklmno-9999`.length).to.equal(63);
  });

  it("checks a job's clusterTemplate groups against the job's name", () => {
    const j = minimalJob('j'.repeat(45));
    delete j.spec.clusterRef;
    j.spec.clusterTemplate = {
      spec: { ...minimalCluster().spec, workerGroups: [gpuGroup({ name: 'abcdefghijklmno' })] },
    };
    const errors = validateJob(j).errors;
    expect(errors.map((e) => e.field)).to.include('metadata.name');
  });
});

describe('worker groups: builders', () => {
  it('names, labels and wires a group worker: <cluster>-<group>-<index>, per-group GAFFER_*', () => {
    const c = cluster();
    const p = buildWorkerPod(c, 1, 2, groupNamed(c, 'gpu'));
    expect(p.metadata!.name).to.equal('c-gpu-1');
    expect(p.spec!.hostname).to.equal('c-gpu-1');
    expect(p.spec!.subdomain).to.equal('c-workers');
    expect(p.metadata!.labels![LABELS.workerGroup]).to.equal('gpu');
    expect(p.spec!.containers[0]!.image).to.equal('gpu:1');
    const env = Object.fromEntries(p.spec!.containers[0]!.env!.map((e) => [e.name, e.value]));
    expect(env).to.include({ GAFFER_WORKER_GROUP: 'gpu', GAFFER_WORKER_INDEX: '1', GAFFER_WORKERS: '2' });
  });

  it('gives each group its own revision; the default group keeps the one it had without groups', () => {
    const c = cluster();
    const plain = cluster([]);
    // The revisions this cluster's pods carried before groups existed (computed at 4e6eb1b):
    // an operator upgrade must not roll the master or the workers.
    expect({ master: masterRevision(c), worker: workerRevision(c) }).to.deep.equal({
      master: '9e8ead60c6',
      worker: '2d3ac35332',
    });
    expect(workerRevision(c)).to.equal(workerRevision(plain));
    expect(workerRevision(c, groupNamed(c, 'gpu'))).to.not.equal(workerRevision(c));
    const changed = cluster([gpuGroup({ template: { spec: { containers: [{ name: 'w', image: 'gpu:2' }] } } })]);
    const old = groupPod(c, 'gpu', 0);
    expect(isCurrentWorker(c, old)).to.equal(true);
    expect(isCurrentWorker(changed, old)).to.equal(false);
    // the default group's workers are not touched by a change of another group
    expect(isCurrentWorker(changed, buildWorkerPod(c, 0, 1))).to.equal(true);
    // a worker of a removed group is never current
    expect(isCurrentWorker(plain, old)).to.equal(false);
  });

  it('the headless Service covers every group, with the ports of all their templates', () => {
    const svc = buildWorkersService(cluster());
    expect(svc.spec!.selector).to.not.have.property(LABELS.workerGroup);
    expect(svc.spec!.ports!.map((p) => p.port)).to.include(9000);
    const names = svc.spec!.ports!.map((p) => p.name);
    expect(new Set(names).size).to.equal(names.length);
  });
});

describe('worker groups: planning', () => {
  it('creates each group to its own count, at the lowest free indexes', () => {
    const c = cluster([gpuGroup({ replicas: 3 })]);
    const p = plan(c, [masterPod(c), groupPod(c, 'gpu', 1, {}, 3)]);
    expect(names(createsOf(p.actions).map((a) => a.pod))).to.deep.equal(['c-gpu-0', 'c-gpu-2', 'c-worker-0']);
    expect(p.progress).to.include('2 gpu worker(s) missing');
  });

  it('scales a group down in its own order and leaves the other groups alone', () => {
    const c = cluster([gpuGroup({ replicas: 1 })]);
    const pods = [
      masterPod(c),
      withState(buildWorkerPod(c, 0, 1), {}),
      groupPod(c, 'gpu', 0, {}),
      groupPod(c, 'gpu', 1, { ready: false }),
    ];
    const p = plan(c, pods);
    expect(deletesOf(p.actions).map((d) => d.name)).to.deep.equal(['c-gpu-1']);
    expect(p.progress).to.include('scaling gpu workers down to 1');
  });

  it("rolls out a group's template change per its own updateStrategy only", () => {
    const c = cluster([gpuGroup({ updateStrategy: { type: 'Recreate' } })]);
    const pods = [masterPod(c), withState(buildWorkerPod(c, 0, 1), {}), groupPod(c, 'gpu', 0), groupPod(c, 'gpu', 1)];
    const changed = cluster([
      gpuGroup({
        updateStrategy: { type: 'Recreate' },
        template: { spec: { containers: [{ name: 'w', image: 'gpu:2' }] } },
      }),
    ]);
    const p = plan(changed, pods);
    expect(
      deletesOf(p.actions)
        .map((d) => d.name)
        .sort(),
    ).to.deep.equal(['c-gpu-0', 'c-gpu-1']);
  });

  it('deletes the workers of a group taken out of the spec', () => {
    const c = cluster();
    const pods = [masterPod(c), withState(buildWorkerPod(c, 0, 1), {}), groupPod(c, 'gpu', 0), groupPod(c, 'gpu', 1)];
    const p = plan(cluster([]), pods);
    const d = deletesOf(p.actions);
    expect(d.map((x) => x.name).sort()).to.deep.equal(['c-gpu-0', 'c-gpu-1']);
    expect(d.every((x) => x.reason === 'WorkerGroupRemoved')).to.equal(true);
  });

  it('deletes a broken worker of a removed group as removed: no failure counted, no replacement', () => {
    const c = cluster();
    const pods = [
      masterPod(c),
      withState(buildWorkerPod(c, 0, 1), {}),
      groupPod(c, 'gpu', 0, { phase: 'Failed' }),
      groupPod(c, 'gpu', 1),
    ];
    const p = plan(cluster([]), pods);
    expect(deletesOf(p.actions).map((d) => [d.name, d.reason])).to.deep.equal([
      ['c-gpu-0', 'WorkerGroupRemoved'],
      ['c-gpu-1', 'WorkerGroupRemoved'],
    ]);
    expect(p.intent).to.equal(undefined);
    expect(createsOf(p.actions)).to.deep.equal([]);
    expect(p.actions.filter((a) => a.kind === 'event')).to.deep.equal([]);
  });

  it('is Ready once the removed group has no live worker, though one is held terminating', () => {
    const c = cluster([]);
    const pods = [
      masterPod(c),
      withState(buildWorkerPod(c, 0, 1), {}),
      groupPod(cluster(), 'gpu', 0, { terminating: 60 }),
    ];
    const st = computeClusterStatus(c, { plan: plan(c, pods), activeJobs: 0, now: new Date(NOW) });
    expect(st.conditions!.find((x) => x.type === 'Ready')!.status).to.equal('True');
    const live = [masterPod(c), withState(buildWorkerPod(c, 0, 1), {}), groupPod(cluster(), 'gpu', 0)];
    const st2 = computeClusterStatus(c, { plan: plan(c, live), activeJobs: 0, now: new Date(NOW) });
    expect(st2.conditions!.find((x) => x.type === 'Ready')!.status).to.equal('False');
  });

  it('replaces a broken group worker with one of the same group and index, counting it once', () => {
    const c = cluster([gpuGroup({ replicas: 1 })]);
    const pods = [masterPod(c), withState(buildWorkerPod(c, 0, 1), {}), groupPod(c, 'gpu', 0, { phase: 'Failed' })];
    const p = plan(c, pods);
    expect(deletesOf(p.actions).map((d) => d.name)).to.deep.equal(['c-gpu-0']);
    expect(p.intent?.recovery.podsReplaced).to.equal(1);
  });

  it('reports the default group in status.workers, each named group in status.workerGroups, and totals in summary', () => {
    const c = cluster([gpuGroup({ replicas: 2 })]);
    const pods = [
      masterPod(c),
      withState(buildWorkerPod(c, 0, 1), {}),
      groupPod(c, 'gpu', 0),
      groupPod(c, 'gpu', 1, { ready: false }),
    ];
    const st = computeClusterStatus(c, { plan: plan(c, pods), activeJobs: 0, now: new Date(NOW) });
    expect(st.workers).to.include({ replicas: 1, desiredReplicas: 1, readyReplicas: 1, summary: '2/3' });
    expect(st.workers!.selector).to.equal(
      'compute.gaffer.dev/cluster=c,compute.gaffer.dev/role=worker,compute.gaffer.dev/worker-group notin (gpu)',
    );
    expect(st.workerGroups).to.deep.equal([
      {
        name: 'gpu',
        replicas: 2,
        desiredReplicas: 2,
        readyReplicas: 1,
        updatedReplicas: 2,
        revision: workerRevision(c, groupNamed(c, 'gpu')),
      },
    ]);
    expect(st.conditions!.find((x) => x.type === 'WorkersReady')!.status).to.equal('False');
  });

  it('keeps the selector and status of a cluster without groups as they were', () => {
    const c = cluster([]);
    const st = computeClusterStatus(c, { plan: plan(c, [masterPod(c)]), activeJobs: 0, now: new Date(NOW) });
    expect(st.workers!.selector).to.equal('compute.gaffer.dev/cluster=c,compute.gaffer.dev/role=worker');
    expect(st).to.not.have.property('workerGroups');
  });
});

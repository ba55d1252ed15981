// spec.scheduling.gang: the PodGroup, the pods that name it, and the Scheduled condition (pure).
import { expect } from 'chai';
import type { ValidComputeCluster } from '../../src/api/v1alpha1/index.ts';
import { buildPodGroup, gangMinCount, isGangMember } from '../../src/builders/gang.ts';
import { groupNamed } from '../../src/builders/groups.ts';
import {
  buildDriverPod,
  buildMasterPod,
  buildWorkerPod,
  masterRevision,
  workerRevision,
} from '../../src/builders/pods.ts';
import { deletesOf } from '../../src/controllers/computecluster/actions.ts';
import { planCluster } from '../../src/controllers/computecluster/plan.ts';
import { gangScheduled } from '../../src/controllers/computecluster/gang.ts';
import { observe } from '../../src/controllers/computecluster/observe.ts';
import type { V1Pod } from '@kubernetes/client-node';
import { NOW, node, nodes, withState } from '../fixtures/pods.ts';
import { testCluster, testJob } from '../fixtures/specs.ts';

const gpu = {
  name: 'gpu',
  minReplicas: 1,
  replicas: 3,
  template: { spec: { containers: [{ name: 'w', image: 'x' }] } },
};
function cluster(gang: object | undefined, mut: (c: any) => void = () => {}): ValidComputeCluster {
  return testCluster((c) => {
    c.spec.workers.minReplicas = 2;
    c.spec.workers.replicas = 4;
    c.spec.workerGroups = [gpu];
    if (gang) c.spec.scheduling = { gang };
    mut(c);
  });
}
const schedulingGroup = (p: V1Pod) => (p.spec as any).schedulingGroup;
const withoutGang = (p: V1Pod): V1Pod => ({ ...p, spec: { ...p.spec!, schedulingGroup: undefined } as any });

describe('gang scheduling', () => {
  const sizes: { name: string; gang?: object; mut?: (c: any) => void; want: number }[] = [
    { name: 'no gang', gang: undefined, want: 0 },
    {
      name: "MinReplicas: the master and each group's minReplicas",
      gang: { minMember: 'MinReplicas' },
      want: 1 + 2 + 1,
    },
    { name: 'AllReplicas (the default): the master and every desired worker', gang: {}, want: 1 + 4 + 3 },
    {
      name: 'never more than a group wants (replicas below minReplicas is clamped up; maxReplicas down)',
      gang: { minMember: 'MinReplicas' },
      mut: (c) => (c.spec.workerGroups = [{ ...gpu, minReplicas: 3, maxReplicas: 3, replicas: 1 }]),
      want: 1 + 2 + 3,
    },
    {
      name: 'suspended: the master only',
      gang: { minMember: 'AllReplicas' },
      mut: (c) => (c.spec.suspend = true),
      want: 1,
    },
  ];
  for (const t of sizes)
    it(`sizes the gang: ${t.name}`, () => {
      expect(gangMinCount(cluster(t.gang, t.mut))).to.equal(t.want);
    });

  it('builds the PodGroup <cluster> owned by the cluster, and none without a gang', () => {
    expect(buildPodGroup(cluster(undefined))).to.equal(undefined);
    const g = buildPodGroup(cluster({}))!;
    expect(g).to.deep.include({ apiVersion: 'scheduling.k8s.io/v1beta1', kind: 'PodGroup' });
    expect(g.metadata.name).to.equal('c');
    expect(g.metadata.ownerReferences![0]).to.include({ kind: 'ComputeCluster', uid: 'uid-c', controller: true });
    expect(g.spec).to.deep.equal({ schedulingPolicy: { gang: { minCount: 8 } } });
    // One priority for the PodGroup and its pods, or the scheduler places none.
    const high = buildPodGroup(cluster({}, (c) => (c.spec.scheduling.priorityClassName = 'high')))!;
    expect(high.spec.priorityClassName).to.equal('high');
  });

  it('makes the master and every worker name the PodGroup, not the drivers (they start after the cluster)', () => {
    const c = cluster({});
    for (const p of [buildMasterPod(c), buildWorkerPod(c, 0, 4), buildWorkerPod(c, 0, 3, groupNamed(c, 'gpu'))])
      expect(schedulingGroup(p)).to.deep.equal({ podGroupName: 'c' });
    expect(schedulingGroup(buildDriverPod(testJob(), c, 0, 4))).to.equal(undefined);
    expect(schedulingGroup(buildMasterPod(cluster(undefined)))).to.equal(undefined);
  });

  it('rolls the pods when the gang is turned on or off, not when its size or timeout changes', () => {
    for (const rev of [workerRevision, masterRevision]) {
      const off = rev(cluster(undefined));
      const on = rev(cluster({}));
      expect(on).to.not.equal(off);
      expect(rev(cluster({ minMember: 'MinReplicas', timeoutSeconds: 5 }))).to.equal(on);
    }
  });

  it('turned on, replaces every worker outside the gang at once, whatever the update strategy', () => {
    const before = cluster(undefined, (c) => (c.spec.workerGroups = []));
    const old = [buildMasterPod(before), ...[0, 1, 2, 3].map((i) => buildWorkerPod(before, i, 4))].map((p) =>
      withState(p, {}),
    );
    for (const type of ['RollingUpdate', 'OnDelete']) {
      const on = cluster({}, (c) => {
        c.spec.workerGroups = [];
        c.spec.workers.updateStrategy = { type };
      });
      const plan = planCluster(on, old, nodes(node('n1')), NOW);
      const deleted = deletesOf(plan.actions).map((d) => d.name);
      expect(deleted, type).to.include.members(['c-worker-0', 'c-worker-1', 'c-worker-2', 'c-worker-3']);
    }
  });

  it("holds a rollout while the gang's PodGroup is refused (a provider not installed): no outdated pod goes, a failed one is still replaced", () => {
    const before = cluster({ provider: 'Kubernetes' }, (c) => (c.spec.workerGroups = []));
    const old = [buildMasterPod(before), ...[0, 1, 2, 3].map((i) => buildWorkerPod(before, i, 4))].map((p) =>
      withState(p, {}),
    );
    const moved = cluster({ provider: 'Volcano' }, (c) => (c.spec.workerGroups = []));
    const free = planCluster(moved, old, nodes(node('n1')), NOW);
    expect(
      deletesOf(free.actions).map((d) => d.name),
      'not held',
    ).to.include.members(['c-master', 'c-worker-0']);
    const held = planCluster(moved, old, nodes(node('n1')), NOW, undefined, 'refused');
    expect(deletesOf(held.actions)).to.deep.equal([]);
    expect(held.progress).to.include.members([
      'the outdated master waits: refused',
      '4 outdated worker(s) wait: refused',
    ]);
    const failed = old.map((p) => (p.metadata!.name === 'c-worker-2' ? withState(p, { phase: 'Failed' }) : p));
    const still = planCluster(moved, failed, nodes(node('n1')), NOW, undefined, 'refused');
    expect(deletesOf(still.actions).map((d) => d.name)).to.deep.equal(['c-worker-2']);
  });

  describe('the Scheduled condition', () => {
    const c = cluster({ timeoutSeconds: 60, minMember: 'MinReplicas' }, (x) => (x.spec.workerGroups = []));
    // the gang: master + 2 workers (minReplicas 2)
    const pods = (bound: number, createdAgoS: number, scheduler?: object) =>
      [buildMasterPod(c), buildWorkerPod(c, 0, 4), buildWorkerPod(c, 1, 4), buildWorkerPod(c, 2, 4)].map((p, i) => {
        const s = withState(p, { phase: i < bound ? 'Running' : 'Pending', node: i < bound ? 'n1' : null });
        s.metadata!.creationTimestamp = new Date(NOW - createdAgoS * 1000).toISOString() as any;
        if (i >= bound && scheduler)
          s.status!.conditions = [{ type: 'PodScheduled', status: 'False', ...scheduler } as any];
        return s;
      });
    const check = (ps: V1Pod[], err?: string) =>
      gangScheduled(c, observe(ps, nodes(node('n1')), c.spec.podRecovery, NOW).observed, err, NOW);
    const unschedulable = { reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient cpu.' };

    const cases: { name: string; pods: V1Pod[]; err?: string; want: object; wakeAt?: number }[] = [
      {
        name: 'True once minCount pods are bound',
        pods: pods(3, 10),
        want: {
          status: 'True',
          reason: 'GangScheduled',
          message: "3 of the gang's 3 pod(s) bound (minMember MinReplicas)",
        },
      },
      {
        name: 'Scheduling while within timeoutSeconds, waking at its end',
        pods: pods(0, 10, unschedulable),
        want: { status: 'False', reason: 'Scheduling' },
        wakeAt: NOW + 50_000,
      },
      {
        name: "the scheduler's reason and message past timeoutSeconds",
        pods: pods(2, 61, unschedulable),
        want: {
          status: 'False',
          reason: 'Unschedulable',
          message:
            "2 of the gang's 3 pod(s) bound (minMember MinReplicas) after timeoutSeconds 60: 0/3 nodes are available: 3 Insufficient cpu.",
        },
      },
      {
        name: 'GangTimeout when the scheduler said nothing',
        pods: pods(0, 61),
        want: { status: 'False', reason: 'GangTimeout' },
      },
      {
        name: 'only members count: pods made before the gang was turned on are not',
        pods: pods(3, 10).map((p, i) => (i === 0 ? p : withoutGang(p))),
        want: {
          status: 'False',
          reason: 'Scheduling',
          message: "1 of the gang's 3 pod(s) bound, 1 exist (minMember MinReplicas); waiting for the scheduler",
        },
        wakeAt: NOW + 60_000,
      },
      {
        name: 'PodGroupRefused before anything else',
        pods: pods(3, 10),
        err: 'PodGroup c: forbidden',
        want: { status: 'False', reason: 'PodGroupRefused', message: 'PodGroup c: forbidden' },
      },
    ];
    for (const t of cases)
      it(t.name, () => {
        const r = check(t.pods, t.err);
        expect(r.condition).to.deep.include({ type: 'Scheduled', ...t.want });
        expect(r.wakeAt).to.equal(t.wakeAt);
      });

    it('is absent without a gang, unless the PodGroup could not be deleted', () => {
      const none = observe([], nodes(), c.spec.podRecovery, NOW).observed;
      expect(gangScheduled(cluster(undefined), none, 'PodGroup c: refused', NOW).condition).to.include({
        reason: 'PodGroupRefused',
      });
      expect(
        gangScheduled(cluster(undefined), observe([], nodes(), c.spec.podRecovery, NOW).observed, undefined, NOW),
      ).to.deep.equal({});
    });
  });

  describe('providers: the PodGroup of scheduler-plugins (Coscheduling) and of Volcano, and how pods join it', () => {
    const sized = (provider: string, extra: object = {}) =>
      cluster({ provider, minMember: 'MinReplicas', timeoutSeconds: 120, ...extra }, (c) => {
        c.spec.master.template.spec.containers[0].resources = { requests: { cpu: '1', memory: '2Gi' } };
        c.spec.workers.template.spec.containers[0].resources = { requests: { cpu: '500m' } };
        c.spec.workerGroups[0].template.spec.containers[0].resources = { limits: { 'nvidia.com/gpu': '1' } };
      });
    // minReplicas: master 1, workers 2, gpu 1
    const minResources = { cpu: '2', memory: '2147483648', 'nvidia.com/gpu': '1' };
    const cases: { provider: string; extra?: object; apiVersion: string; spec: object }[] = [
      {
        provider: 'Kubernetes',
        apiVersion: 'scheduling.k8s.io/v1beta1',
        spec: { schedulingPolicy: { gang: { minCount: 4 } } },
      },
      {
        provider: 'Coscheduling',
        apiVersion: 'scheduling.x-k8s.io/v1alpha1',
        spec: { minMember: 4, minResources, scheduleTimeoutSeconds: 120 },
      },
      {
        provider: 'Volcano',
        apiVersion: 'scheduling.volcano.sh/v1beta1',
        // No queue asked for: Volcano picks it (the namespace's, else default).
        spec: { minMember: 4, minTaskMember: { master: 1, worker: 2, gpu: 1 }, minResources },
      },
      {
        provider: 'Volcano',
        extra: { queue: 'research' },
        apiVersion: 'scheduling.volcano.sh/v1beta1',
        spec: { minMember: 4, minTaskMember: { master: 1, worker: 2, gpu: 1 }, minResources, queue: 'research' },
      },
    ];
    for (const t of cases)
      it(`${t.provider}${t.extra ? ' ' + JSON.stringify(t.extra) : ''}: ${t.apiVersion}, sized from the cluster`, () => {
        const g = buildPodGroup(sized(t.provider, t.extra))!;
        expect(g.apiVersion).to.equal(t.apiVersion);
        expect(g.metadata.name).to.equal('c');
        expect(g.spec).to.deep.equal(t.spec);
        // What was applied, compared instead of fields the API server may default (a PriorityClass, a queue).
        expect(g.metadata.annotations).to.have.keys(
          'compute.gaffer.dev/podgroup-spec',
          'compute.gaffer.dev/priority-class-name',
        );
      });

    it('the spec annotation changes with the spec, and only then', () => {
      const hash = (c: ValidComputeCluster) =>
        buildPodGroup(c)!.metadata.annotations!['compute.gaffer.dev/podgroup-spec'];
      const a = sized('Volcano');
      expect(hash(sized('Volcano'))).to.equal(hash(a));
      expect(hash(sized('Volcano', { queue: 'q' }))).to.not.equal(hash(a));
      expect(hash(sized('Volcano', { minMember: 'AllReplicas' }))).to.not.equal(hash(a));
    });

    it("carries spec.scheduling.priorityClassName where the provider has one (Kubernetes', Volcano's)", () => {
      const high = (provider: string) =>
        buildPodGroup(cluster({ provider }, (c) => (c.spec.scheduling.priorityClassName = 'high')))!.spec;
      expect(high('Volcano').priorityClassName).to.equal('high');
      expect(high('Coscheduling')).to.not.have.property('priorityClassName');
    });

    const joins: { provider: string; check: (p: V1Pod, task: string) => void; scheduler: string }[] = [
      {
        provider: 'Coscheduling',
        scheduler: 'scheduler-plugins-scheduler',
        check: (p) => expect(p.metadata!.labels!['scheduling.x-k8s.io/pod-group']).to.equal('c'),
      },
      {
        provider: 'Volcano',
        scheduler: 'volcano',
        check: (p, task) =>
          expect(p.metadata!.annotations).to.include({
            'scheduling.k8s.io/group-name': 'c',
            'volcano.sh/task-spec': task,
          }),
      },
    ];
    for (const t of joins)
      it(`${t.provider}: the master and workers join the gang and go to ${t.scheduler} unless spec.scheduling names a scheduler; drivers do not`, () => {
        const c = cluster({ provider: t.provider });
        const members: [V1Pod, string][] = [
          [buildMasterPod(c), 'master'],
          [buildWorkerPod(c, 0, 4), 'worker'],
          [buildWorkerPod(c, 0, 3, groupNamed(c, 'gpu')), 'gpu'],
        ];
        for (const [p, task] of members) {
          t.check(p, task);
          expect(p.spec!.schedulerName).to.equal(t.scheduler);
          expect(schedulingGroup(p), 'no Kubernetes gang field').to.equal(undefined);
          expect(isGangMember(c, p)).to.equal(true);
        }
        const driver = buildDriverPod(testJob(), c, 0, 4);
        expect(driver.spec!.schedulerName).to.equal(undefined);
        expect(isGangMember(c, driver)).to.equal(false);
        const named = cluster({ provider: t.provider }, (x) => (x.spec.scheduling.schedulerName = 'batch'));
        expect(buildMasterPod(named).spec!.schedulerName).to.equal('batch');
        expect(buildDriverPod(testJob(), named, 0, 4).spec!.schedulerName).to.equal('batch');
      });

    it('a pod of another provider is no member: a change of provider rolls the pods', () => {
      const k = cluster({ provider: 'Kubernetes' });
      const v = cluster({ provider: 'Volcano' });
      expect(isGangMember(v, buildWorkerPod(k, 0, 4))).to.equal(false);
      expect(isGangMember(k, buildWorkerPod(v, 0, 4))).to.equal(false);
      const revisions = ['Kubernetes', 'Coscheduling', 'Volcano'].map((provider) =>
        workerRevision(cluster({ provider })),
      );
      expect(new Set(revisions).size).to.equal(3);
    });
  });
});

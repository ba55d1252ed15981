// spec.scheduling.gang: the PodGroup, the pods that name it, and the Scheduled condition (pure).
import { expect } from 'chai';
import type { ValidComputeCluster } from '../../src/api/v1alpha1/index.ts';
import { buildPodGroup, gangMinCount } from '../../src/builders/gang.ts';
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
});

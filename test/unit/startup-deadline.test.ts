// spec.podRecovery.startupDeadlineSeconds (src/controllers/computecluster/startupdeadline.ts):
// which pods that do not start are reported, with what reason and message, and when.
import { expect } from 'chai';
import type { V1Pod } from '@kubernetes/client-node';
import { validateCluster, type ValidComputeCluster } from '../../src/api/v1alpha1/index.ts';
import { startupDeadline } from '../../src/controllers/computecluster/startupdeadline.ts';
import { planCluster } from '../../src/controllers/computecluster/plan.ts';
import { computeClusterStatus } from '../../src/controllers/computecluster/status.ts';
import { observe } from '../../src/controllers/computecluster/observe.ts';
import { minimalCluster } from '../fixtures/specs.ts';
import { NOW, masterPod, node, nodes, timestamp, workerPod, type PodState } from '../fixtures/pods.ts';

const DEADLINE = 60;
function cluster(): ValidComputeCluster {
  const c = minimalCluster();
  c.metadata = { name: 'c', namespace: 'ns', uid: 'uid-c', generation: 1 };
  c.spec.workers.replicas = 2;
  c.spec.podRecovery = { startupDeadlineSeconds: DEADLINE };
  return validateCluster(c).value;
}
const up = nodes(node('n1'));

/** A pod created `agoS` seconds before now, in `s`; `unschedulable`: the scheduler's PodScheduled=False. */
function created(p: V1Pod, agoS: number, unschedulable?: string): V1Pod {
  p.metadata!.creationTimestamp = timestamp(NOW - agoS * 1000);
  if (unschedulable !== undefined) {
    delete p.spec!.nodeName;
    p.status!.conditions!.push({
      type: 'PodScheduled',
      status: 'False',
      reason: 'Unschedulable',
      message: unschedulable,
    });
  }
  return p;
}
/** The scheduler's PodScheduled=False of a pod with scheduling gates. */
function gated(p: V1Pod): V1Pod {
  p.spec!.schedulingGates = [{ name: 'kueue.x-k8s.io/admission' }];
  p.status!.conditions!.push({ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' });
  return p;
}
/** An init container that exited 2 and waits in CrashLoopBackOff with a back-off message of the moment. */
function initCrashing(p: V1Pod): V1Pod {
  p.status!.initContainerStatuses = [
    {
      name: 'fetch',
      image: 'x',
      imageID: '',
      ready: false,
      restartCount: 3,
      state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=fetch' } },
      lastState: { terminated: { exitCode: 2, reason: 'Error' } },
    },
  ];
  return p;
}
const pending = (s: PodState = {}): PodState => ({ phase: 'Pending', ...s });
const running = created(masterPod(cluster()), 600);
const worker = (i: number, agoS: number, s: PodState, unschedulable?: string) =>
  created(workerPod(cluster(), i, s), agoS, unschedulable);

describe('startupDeadlineSeconds', () => {
  const SCHED = "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.";
  const cases: {
    name: string;
    pods: V1Pod[];
    want: { reason?: string; message?: RegExp; pods?: string[]; wakeAt?: number };
  }[] = [
    { name: 'all running: nothing', pods: [running, worker(0, 600, {})], want: {} },
    {
      name: 'pending 10 s, nothing said: looked at again at its deadline',
      pods: [running, worker(0, 10, pending())],
      want: { wakeAt: NOW + 50_000 },
    },
    {
      name: 'pending past the deadline, nothing said: StartupTimeout',
      pods: [running, worker(0, 61, pending())],
      want: {
        reason: 'StartupTimeout',
        message: /^pod c-worker-0 did not start within startupDeadlineSeconds 60: it is still Pending$/,
        pods: ['c-worker-0'],
      },
    },
    {
      name: 'ErrImagePull after 1 s: at once, as ImagePullBackOff (the kubelet alternates the two)',
      pods: [running, worker(0, 1, pending({ waiting: 'ErrImagePull' }))],
      want: {
        reason: 'ImagePullBackOff',
        message:
          /^pod c-worker-0 cannot start: image "x" of container worker cannot be pulled \(kubectl describe pod c-worker-0\)$/,
      },
    },
    {
      name: 'ImagePullBackOff after 1 s: at once, the same message',
      pods: [running, worker(0, 1, pending({ waiting: 'ImagePullBackOff' }))],
      want: { reason: 'ImagePullBackOff', message: /^pod c-worker-0 cannot start: image "x" of container worker/ },
    },
    {
      name: 'InvalidImageName: at once',
      pods: [running, worker(0, 1, pending({ waiting: 'InvalidImageName' }))],
      want: { reason: 'InvalidImageName' },
    },
    {
      name: 'CreateContainerConfigError within the deadline: not yet (the kubelet retries; a Secret may come)',
      pods: [running, worker(0, 30, pending({ waiting: 'CreateContainerConfigError' }))],
      want: { wakeAt: NOW + 30_000 },
    },
    {
      name: 'CreateContainerConfigError past the deadline: its reason',
      pods: [running, worker(0, 61, pending({ waiting: 'CreateContainerConfigError' }))],
      want: {
        reason: 'CreateContainerConfigError',
        message: /within startupDeadlineSeconds 60: CreateContainerConfigError$/,
      },
    },
    {
      name: "unschedulable past the deadline: the scheduler's reason and message",
      pods: [running, worker(0, 61, pending({ node: null }), SCHED)],
      want: { reason: 'Unschedulable', message: new RegExp(`: ${SCHED.replace(/[.()/]/g, '\\$&')}$`) },
    },
    {
      name: 'still creating its containers past the deadline: StartupTimeout (progress, not a named blocker)',
      pods: [running, worker(0, 61, pending({ waiting: 'ContainerCreating' }))],
      want: { reason: 'StartupTimeout' },
    },
    {
      name: 'held by scheduling gates (a queue admits it): not reported, however long',
      pods: [running, gated(worker(0, 6000, pending({ node: null })))],
      want: {},
    },
    {
      name: 'an init container failing again and again: CrashLoopBackOff with its last exit, not the changing back-off',
      pods: [running, initCrashing(worker(0, 61, pending()))],
      want: {
        reason: 'CrashLoopBackOff',
        message: /: init container fetch keeps failing: Error \(exit code 2\)$/,
      },
    },
    {
      name: 'a terminating pod that never started: not reported (it is going)',
      pods: [running, worker(0, 600, pending({ terminating: true }))],
      want: {},
    },
    {
      name: 'the master before the workers, and how many more',
      pods: [
        created(masterPod(cluster(), pending({ waiting: 'ErrImagePull' })), 1),
        worker(1, 61, pending()),
        worker(0, 61, pending()),
      ],
      want: {
        reason: 'ImagePullBackOff',
        message: /^pod c-master cannot start: .* \(and 2 more pod\(s\) not started\)$/,
        pods: ['c-master', 'c-worker-0', 'c-worker-1'],
      },
    },
  ];
  for (const t of cases)
    it(t.name, () => {
      const { observed } = observe(t.pods, up, cluster().spec.podRecovery, NOW);
      const got = startupDeadline(observed, DEADLINE, NOW);
      expect(got.blocked?.reason).to.equal(t.want.reason);
      if (t.want.message) expect(got.blocked?.message).to.match(t.want.message);
      if (t.want.pods) expect(got.blocked?.pods).to.deep.equal(t.want.pods);
      if (t.want.wakeAt !== undefined) expect(got.wakeAt).to.equal(t.want.wakeAt);
    });

  describe('on the status', () => {
    const statusOf = (prevPhase: 'Pending' | 'Running') => {
      const c = cluster();
      c.status = { phase: prevPhase };
      const pods = [running, worker(0, 600, {}), worker(1, 61, pending({ node: null }), SCHED)];
      const plan = planCluster(c, pods, up, NOW);
      expect(
        plan.actions.filter((a) => a.kind !== 'event'),
        'nothing is done to the pod',
      ).to.deep.equal([]);
      return computeClusterStatus(c, { plan, activeJobs: 0, now: new Date(NOW) });
    };
    const cond = (s: ReturnType<typeof statusOf>, type: string) => s.conditions?.find((k) => k.type === type);

    it('Stalled=True and Ready=False with the blocker; Pending if it never ran', () => {
      const s = statusOf('Pending');
      expect([cond(s, 'Stalled')?.status, cond(s, 'Stalled')?.reason]).to.deep.equal(['True', 'Unschedulable']);
      expect(cond(s, 'Stalled')?.message).to.match(
        /^pod c-worker-1 did not start within startupDeadlineSeconds 60: 0\/3/,
      );
      expect([cond(s, 'Ready')?.status, cond(s, 'Ready')?.reason]).to.deep.equal(['False', 'Unschedulable']);
      expect(cond(s, 'Reconciling')?.reason, 'nothing else to do').to.equal('Reconciled');
      expect(s.phase).to.equal('Pending');
    });

    it('Degraded, not Failed, once it has run: the pod may yet start', () => {
      expect(statusOf('Running').phase).to.equal('Degraded');
    });
  });
});

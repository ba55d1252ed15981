// The ComputeJob decisions are pure: tested here without an API server, one describe per
// phase or policy file (phases/, failure-policy.ts, deadlines.ts, ttl.ts).
import { expect } from 'chai';
import {
  validateCluster,
  validateJob,
  type FailureRule,
  type ValidComputeCluster,
  type ValidComputeJob,
} from '../../src/api/v1alpha1/index.ts';
import { LABELS } from '../../src/builders/labels.ts';
import { whyDriverNotAdoptable } from '../../src/controllers/computejob/claim.ts';
import { decideJob, ruleAction } from '../../src/controllers/computejob/decide.ts';
import { DepartedDrivers } from '../../src/controllers/computejob/departed.ts';
import type { V1Pod } from '../../src/kube/types.ts';
import { NOW, driverPod, masterPod, node, nodes, type PodPhase } from '../fixtures/pods.ts';
import { minimalJob, readyCluster as readyClusterObject } from '../fixtures/specs.ts';

const job = (mut: (j: any) => void = () => {}): ValidComputeJob => {
  const j = minimalJob();
  j.metadata = { name: 'j', namespace: 'ns', uid: 'uid-j', generation: 1 };
  mut(j);
  return validateJob(j).value;
};
const readyCluster = (uid = 'm1'): ValidComputeCluster => validateCluster(readyClusterObject(uid)).value;
const driver = (j: ValidComputeJob, attempt: number, phase: PodPhase, exitCode?: number) =>
  driverPod(j, attempt, { phase, ...(exitCode !== undefined ? { exitCode } : {}) });
const ready = nodes(node('n1'));
const kinds = (d: ReturnType<typeof decideJob>) => d.actions.filter((a) => a.kind !== 'event').map((a) => a.kind);

describe('decideJob: waiting and running', () => {
  it('waits for the cluster, then records the attempt and creates its driver', () => {
    const waiting = decideJob(job(), undefined, [], ready, NOW);
    expect(waiting.status.phase).to.equal('WaitingForCluster');
    expect(waiting.wakeAt).to.equal(NOW + 600_000);
    const started = decideJob(job(), readyCluster(), [], ready, NOW);
    expect(started.status.phase).to.equal('Running');
    expect(started.status.attempts).to.deep.equal([
      { index: 0, podName: 'j-driver-0', masterUID: 'm1', startTime: new Date(NOW).toISOString() },
    ]);
    expect(kinds(started)).to.deep.equal(['createDriver']);
  });

  it('recreates a recorded driver that was never seen (operator crashed after the status write), and only that one', () => {
    const j = job();
    j.status = decideJob(j, readyCluster(), [], ready, NOW).status;
    const again = decideJob(j, readyCluster(), [], ready, NOW + 1000);
    expect(kinds(again)).to.deep.equal(['createDriver']);
    const create = again.actions[0];
    expect(create?.kind === 'createDriver' && create.pod.metadata?.name).to.equal('j-driver-0');
    expect(again.status.attemptCount).to.equal(1);
  });

  it('ends the attempt with MasterRestarted when the master changes; the default rule ignores it', () => {
    const j = job();
    j.status = decideJob(j, readyCluster('m1'), [], ready, NOW).status;
    const d = decideJob(j, readyCluster('m2'), [driver(j, 0, 'Running')], ready, NOW + 1000);
    expect(d.status.attempts![0]).to.include({ reason: 'MasterRestarted', counted: false });
    expect(d.status.failed).to.equal(0);
    expect(kinds(d)).to.deep.equal(['deleteDriver']);
  });
});

describe('decideJob: a same-named ephemeral cluster that is not ours (issue 11 #4)', () => {
  const templated = () =>
    job((x) => {
      delete x.spec.clusterRef;
      x.spec.clusterTemplate = { spec: readyClusterObject().spec };
    });
  /** The cluster named j, controlled by a ComputeJob `owner` with this uid; `deleting`: being deleted. */
  const sameNamed = (owner: { name: string; uid: string } | undefined, deleting = false): ValidComputeCluster => {
    const c = readyCluster();
    c.metadata.name = 'j';
    if (owner)
      c.metadata.ownerReferences = [
        { apiVersion: 'compute.gaffer.dev/v1alpha1', kind: 'ComputeJob', controller: true, ...owner },
      ];
    if (deleting) c.metadata.deletionTimestamp = new Date(NOW).toISOString() as any;
    return c;
  };
  const condition = (d: ReturnType<typeof decideJob>, type: string) =>
    d.status.conditions!.find((c) => c.type === type)!;
  const cases: [string, ValidComputeCluster][] = [
    ['owned by the deleted previous job of this name', sameNamed({ name: 'j', uid: 'uid-old' })],
    ['being deleted', sameNamed({ name: 'other', uid: 'uid-other' }, true)],
    ['without an owner and being deleted', sameNamed(undefined, true)],
  ];
  for (const [what, cluster] of cases) {
    it(`waits, creating nothing, for a cluster ${what}`, () => {
      const d = decideJob(templated(), cluster, [], ready, NOW);
      expect(d.status.phase).to.equal('WaitingForCluster');
      expect(kinds(d)).to.deep.equal([]);
      expect(condition(d, 'Reconciling')).to.include({ status: 'True', reason: 'WaitingForClusterDeletion' });
      expect(condition(d, 'Ready')).to.include({ status: 'False', reason: 'WaitingForClusterDeletion' });
      expect(condition(d, 'Ready').message).to.include('ComputeCluster j');
      expect(d.wakeAt).to.be.at.most(NOW + 10_000);
    });
  }
  it('creates its own cluster once the old one is gone', () => {
    expect(kinds(decideJob(templated(), undefined, [], ready, NOW))).to.deep.equal(['createCluster']);
  });
  const conflicts: [string, ValidComputeCluster][] = [
    ['owned by another job', sameNamed({ name: 'other', uid: 'uid-other' })],
    ['owned by nobody', sameNamed(undefined)],
  ];
  for (const [what, cluster] of conflicts) {
    it(`fails with ClusterConflict on a cluster ${what} that nobody is deleting`, () => {
      const d = decideJob(templated(), cluster, [], ready, NOW);
      expect(d.status).to.include({ phase: 'Failed', reason: 'ClusterConflict' });
    });
  }
});

describe('decideJob: a driver Kubernetes took away (DisruptionTarget, issue 11 #6)', () => {
  const disrupted = (j: ValidComputeJob, reason: string, state: Parameters<typeof driverPod>[2] = {}) => {
    const p = driverPod(j, 0, { phase: 'Running', ...state });
    p.status!.conditions = [
      ...(p.status!.conditions ?? []),
      { type: 'DisruptionTarget', status: 'True', reason, message: 'Eviction API: evicting' },
    ];
    return p;
  };
  /** A backoffLimit 0 job whose attempt 0 runs, its driver seen (podUID recorded). */
  const runningJob = () => {
    const j = job((x) => (x.spec.backoffLimit = 0));
    j.status = decideJob(j, readyCluster(), [], ready, NOW).status;
    j.status = decideJob(j, readyCluster(), [driver(j, 0, 'Running')], ready, NOW + 500).status;
    return j;
  };
  const notCounted = (d: ReturnType<typeof decideJob>, reason: string) => {
    expect(d.status.attempts![0]).to.include({ reason, counted: false });
    expect(d.status.failed).to.equal(0);
    expect(d.status.phase).to.equal('Retrying');
  };
  for (const reason of ['EvictionByEvictionAPI', 'PreemptionByScheduler', 'DeletionByTaintManager']) {
    it(`ends the attempt of a terminating driver with ${reason}, not counted by the default rule`, () => {
      const j = runningJob();
      notCounted(
        decideJob(j, readyCluster(), [disrupted(j, reason, { terminating: true })], ready, NOW + 1000),
        reason,
      );
    });
  }
  it('reads the reason from the last state of a disrupted driver already gone', () => {
    const j = runningJob();
    const d = decideJob(j, readyCluster(), [], ready, NOW + 1000, { gone: [disrupted(j, 'EvictionByEvictionAPI')] });
    notCounted(d, 'EvictionByEvictionAPI');
    expect(d.status.attempts![0]!.message).to.include('Eviction API: evicting');
  });
  it('ends a driver failed by the kubelet (TerminationByKubelet) with that reason, not counted', () => {
    const j = runningJob();
    const p = disrupted(j, 'TerminationByKubelet', { phase: 'Failed', exitCode: 137 });
    notCounted(decideJob(j, readyCluster(), [p], ready, NOW + 1000), 'TerminationByKubelet');
  });
  it('still counts a driver deleted by someone else as PodDeleted', () => {
    const d = decideJob(runningJob(), readyCluster(), [], ready, NOW + 1000);
    expect(d.status.attempts![0]).to.include({ reason: 'PodDeleted', counted: true });
    expect(d.status).to.include({ phase: 'Failed', reason: 'BackoffLimitExceeded' });
  });
  it('keeps the last state of deleted drivers only when disrupted, and only for a while', () => {
    const m = new DepartedDrivers(60_000);
    const j = job();
    m.record('ns/j', disrupted(j, 'EvictionByEvictionAPI'), NOW);
    m.record('ns/j', driver(j, 1, 'Running'), NOW);
    expect(m.of('ns/j', NOW + 59_999)).to.have.length(1);
    expect(m.of('ns/j', NOW + 60_000)).to.deep.equal([]);
  });
});

describe('failure policy', () => {
  it('counts a failure, schedules the retry with backoff, and fails past backoffLimit', () => {
    const j = job((x) => {
      x.spec.backoffLimit = 1;
    });
    j.status = decideJob(j, readyCluster(), [], ready, NOW).status;
    const f1 = decideJob(j, readyCluster(), [driver(j, 0, 'Failed', 1)], ready, NOW + 5000);
    expect(f1.status).to.include({
      phase: 'Retrying',
      failed: 1,
      nextAttemptTime: new Date(NOW + 15_000).toISOString(),
    });
    j.status = f1.status;
    expect(decideJob(j, readyCluster(), [driver(j, 0, 'Failed', 1)], ready, NOW + 15_000).status.attemptCount).to.equal(
      2,
    );
    j.status = decideJob(j, readyCluster(), [driver(j, 0, 'Failed', 1)], ready, NOW + 15_000).status;
    const f2 = decideJob(
      j,
      readyCluster(),
      [driver(j, 0, 'Failed', 1), driver(j, 1, 'Failed', 1)],
      ready,
      NOW + 20_000,
    );
    expect(f2.status).to.include({ phase: 'Failed', reason: 'BackoffLimitExceeded', failed: 2 });
  });

  describe('matches failurePolicy rules in order', () => {
    const rules: FailureRule[] = [
      { action: 'FailJob', onExitCodes: { operator: 'In', values: [2] } },
      { action: 'Ignore', onExitCodes: { operator: 'NotIn', values: [1, 2] } },
      { action: 'Ignore', onReasons: ['Evicted'] },
    ];
    const cases: [FailureRule[], number | undefined, string, FailureRule['action']][] = [
      [rules, 2, 'Error', 'FailJob'],
      [rules, 7, 'Error', 'Ignore'],
      [rules, 1, 'Error', 'Count'],
      [rules, undefined, 'Evicted', 'Ignore'],
      [[], 1, 'x', 'Count'],
    ];
    for (const [r, exit, reason, want] of cases) {
      it(`${r.length} rules, exit ${exit}, ${reason}: ${want}`, () =>
        expect(ruleAction(r, exit, reason)).to.equal(want));
    }
  });
});

describe('finished jobs and deadlines', () => {
  it('succeeds, reports nothing running, and schedules the TTL deletion', () => {
    const j = job((x) => {
      x.spec.ttlSecondsAfterFinished = 60;
    });
    j.status = decideJob(j, readyCluster(), [], ready, NOW).status;
    const d = decideJob(j, readyCluster(), [driver(j, 0, 'Succeeded', 0)], ready, NOW + 65_000);
    expect(d.status).to.include({ phase: 'Succeeded', duration: '1m5s' });
    expect(d.status.attempts!.every((a) => a.finishTime)).to.equal(true);
    expect(d.wakeAt).to.equal(NOW + 125_000);
    j.status = d.status;
    expect(kinds(decideJob(j, readyCluster(), [], ready, NOW + 125_000))).to.deep.equal(['deleteJob']);
  });

  it('fails at the active deadline and stops the driver', () => {
    const j = job((x) => {
      x.spec.activeDeadlineSeconds = 10;
    });
    j.status = decideJob(j, readyCluster(), [], ready, NOW).status;
    const d = decideJob(j, readyCluster(), [driver(j, 0, 'Running')], ready, NOW + 10_000);
    expect(d.status).to.include({ phase: 'Failed', reason: 'DeadlineExceeded' });
    expect(kinds(d)).to.deep.equal(['deleteDriver']);
  });
});

describe('running: the driver lost with its node', () => {
  // The node-loss time is the cluster's spec.podRecovery.nodeLossSeconds; a driver of an
  // ephemeral job whose cluster is gone from the cache gets the schema default (60 s), as
  // before the planner was split (the template's own setting is not read then).
  const ephemeral = job((x) => {
    delete x.spec.clusterRef;
    x.spec.clusterTemplate = { spec: { ...readyClusterObject().spec, podRecovery: { nodeLossSeconds: 300 } } };
  });
  const started = { ...ephemeral, status: decideJob(ephemeral, undefined, [], ready, NOW).status };
  started.status = {
    ...started.status,
    phase: 'Running',
    attempts: [{ index: 0, podName: 'j-driver-0', masterUID: 'm1', startTime: new Date(NOW).toISOString() }],
    attemptCount: 1,
  };
  const cases: { name: string; notReadyS: number; want: string | undefined }[] = [
    { name: 'NotReady for 61 s: lost (default 60 s)', notReadyS: 61, want: 'NodeLost' },
    { name: 'NotReady for 30 s: not yet', notReadyS: 30, want: undefined },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const down = nodes(node('n1', { ready: false, sinceS: c.notReadyS }));
      const d = decideJob(started, undefined, [driver(started, 0, 'Running')], down, NOW + 1000);
      expect(d.status.attempts![0]!.reason).to.equal(c.want);
    });
  }
});

describe('decideJob: a driver that fails while its master is lost is put down to the master (issue 11)', () => {
  const started = () => {
    const j = job();
    j.status = decideJob(j, readyCluster('m1'), [], ready, NOW).status;
    return j;
  };
  /** The cached pod of the master's name: m1 in this state, or another uid. */
  const m = (s: Parameters<typeof masterPod>[1] = {}) => masterPod(readyCluster('m1'), { uid: 'm1', ...s });
  const cases: {
    name: string;
    cluster?: string;
    masters?: V1Pod[];
    driver: PodPhase;
    /** The driver's container stopped this many seconds before NOW. */
    driverFinishedAgoS?: number;
    want: { reason: string; counted: boolean; kinds: string[] };
  }[] = [
    {
      name: 'the driver failed before its master was deleted (both times known): its own end',
      masters: [m({ terminating: 0 })],
      driver: 'Failed',
      driverFinishedAgoS: 10,
      want: { reason: 'Error', counted: true, kinds: [] },
    },
    {
      name: 'the driver failed after its master was deleted',
      masters: [m({ terminating: 5 })],
      driver: 'Failed',
      driverFinishedAgoS: 1,
      want: { reason: 'MasterRestarted', counted: false, kinds: [] },
    },
    {
      name: 'the driver failed before its master pod failed',
      masters: [m({ phase: 'Failed', finishedAgoS: 5 })],
      driver: 'Failed',
      driverFinishedAgoS: 10,
      want: { reason: 'Error', counted: true, kinds: [] },
    },
    {
      name: 'the driver failed when its master is gone from the cache: the order is unknown, the master is blamed',
      masters: [],
      driver: 'Failed',
      driverFinishedAgoS: 10,
      want: { reason: 'MasterRestarted', counted: false, kinds: [] },
    },
    {
      name: 'the master pod failed, the status not yet changed',
      masters: [m({ phase: 'Failed' })],
      driver: 'Failed',
      want: { reason: 'MasterRestarted', counted: false, kinds: [] },
    },
    {
      name: 'the master pod is being deleted',
      masters: [m({ terminating: true })],
      driver: 'Failed',
      want: { reason: 'MasterRestarted', counted: false, kinds: [] },
    },
    {
      name: 'the master pod is gone (none of that name)',
      masters: [],
      driver: 'Failed',
      want: { reason: 'MasterRestarted', counted: false, kinds: [] },
    },
    {
      name: 'another pod holds the master name (a new master)',
      masters: [m({ uid: 'm2' })],
      driver: 'Failed',
      want: { reason: 'MasterRestarted', counted: false, kinds: [] },
    },
    {
      name: "the cluster's status names another master",
      cluster: 'm2',
      masters: [m()],
      driver: 'Failed',
      want: { reason: 'MasterRestarted', counted: false, kinds: [] },
    },
    {
      name: 'the master is alive: the driver is to blame',
      masters: [m()],
      driver: 'Failed',
      want: { reason: 'Error', counted: true, kinds: [] },
    },
    {
      name: 'the master pods were not looked up: the status alone decides',
      driver: 'Failed',
      want: { reason: 'Error', counted: true, kinds: [] },
    },
    {
      name: 'a running driver whose master pod failed is stopped at once',
      masters: [m({ phase: 'Failed' })],
      driver: 'Running',
      want: { reason: 'MasterRestarted', counted: false, kinds: ['deleteDriver'] },
    },
  ];
  for (const c of cases)
    it(`${c.name}: ${c.want.reason}`, () => {
      const j = started();
      const d0 = driverPod(j, 0, {
        phase: c.driver,
        ...(c.driverFinishedAgoS !== undefined && { finishedAgoS: c.driverFinishedAgoS }),
      });
      const d = decideJob(j, readyCluster(c.cluster ?? 'm1'), [d0], ready, NOW + 1000, { masters: c.masters });
      expect(d.status.attempts![0]).to.include({ reason: c.want.reason, counted: c.want.counted });
      expect(kinds(d)).to.deep.equal(c.want.kinds);
      if (c.want.reason === 'MasterRestarted') expect(d.status.attempts?.[0]?.exitCode).to.equal(undefined);
    });

  it("does not let an exit-code rule match the driver's end put down to the master", () => {
    const j = job((x) => {
      x.spec.failurePolicy = { rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [1] } }] };
    });
    j.status = decideJob(j, readyCluster('m1'), [], ready, NOW).status;
    const d = decideJob(j, readyCluster('m1'), [driver(j, 0, 'Failed', 1)], ready, NOW + 1000, {
      masters: [m({ phase: 'Failed' })],
    });
    expect(d.status.phase).to.not.equal('Failed');
    expect(d.status.attempts?.[0]?.message).to.match(/master pod minimal-master \(uid m1\) failed during attempt 0/);
    expect(d.status.attempts?.[0]?.message).to.include('Error, exit code 1');
  });

  it('starts no attempt against a master the cache shows failed, while the status still names it', () => {
    const d = decideJob(job(), readyCluster('m1'), [], ready, NOW, { masters: [m({ phase: 'Failed' })] });
    expect(d.status.phase).to.equal('WaitingForCluster');
    expect(kinds(d)).to.deep.equal([]);
  });
});

describe("decideJob: a pod the job cannot adopt holds its driver's name (issue 11)", () => {
  const conflicted = (pod: string) => {
    const j = job();
    j.status = decideJob(j, readyCluster(), [], ready, NOW).status;
    return decideJob(j, readyCluster(), [], ready, NOW + 1000, {
      driverConflict: { pod, why: 'it is controlled by ReplicaSet rs' },
    });
  };

  it('says so on Ready and Reconciling (PodConflict, the pod named, what to do) and tries the create again', () => {
    const d = conflicted('j-driver-0');
    expect(kinds(d)).to.deep.equal(['createDriver']);
    const ready = d.status.conditions!.find((c) => c.type === 'Ready')!;
    const reconciling = d.status.conditions!.find((c) => c.type === 'Reconciling')!;
    expect(ready).to.include({ status: 'False', reason: 'PodConflict' });
    expect(reconciling).to.include({ status: 'True', reason: 'PodConflict' });
    expect(ready.message).to.equal(
      'pod j-driver-0 exists and is not controlled by this ComputeJob: it is controlled by ReplicaSet rs; delete it to let Gaffer create its own',
    );
  });

  it('sends no create while the conflict backoff runs (no loop): PodConflict said, woken at the retry', () => {
    const j = job();
    j.status = decideJob(j, readyCluster(), [], ready, NOW).status;
    const d = decideJob(j, readyCluster(), [], ready, NOW + 1000, {
      driverConflict: { pod: 'j-driver-0', why: 'it is controlled by ReplicaSet rs', retryAt: NOW + 5000 },
    });
    expect(kinds(d)).to.deep.equal([]);
    expect(d.wakeAt).to.equal(NOW + 5000);
    expect(d.status.conditions!.find((c) => c.type === 'Ready')!.reason).to.equal('PodConflict');
    const due = decideJob(j, readyCluster(), [], ready, NOW + 5000, {
      driverConflict: { pod: 'j-driver-0', why: 'it is controlled by ReplicaSet rs', retryAt: NOW + 5000 },
    });
    expect(kinds(due)).to.deep.equal(['createDriver']);
  });

  it("ignores a conflict over another attempt's name", () => {
    const d = conflicted('j-driver-7');
    expect(d.status.conditions!.find((c) => c.type === 'Ready')!.reason).to.equal('Running');
  });
});

describe('decideJob: a create the API server refused is reported and retried with backoff, never in a loop', () => {
  const refusal = { message: 'pods "j-driver-0" is forbidden: exceeded quota', retryAt: NOW + 10_000 };
  const ephemeral = () =>
    job((j) => {
      delete j.spec.clusterRef;
      j.spec.clusterTemplate = { spec: readyClusterObject('m1').spec };
    });
  const cases: {
    name: string;
    j: () => ValidComputeJob;
    cluster?: () => ValidComputeCluster;
    at: number;
    kind: string;
    creates: boolean;
  }[] = [
    {
      name: 'driver refused, backoff not passed: nothing sent, woken at the retry',
      j: job,
      cluster: readyCluster,
      at: NOW + 1000,
      kind: 'createDriver',
      creates: false,
    },
    {
      name: 'driver refused, backoff passed: sent again, still said until it goes through',
      j: job,
      cluster: readyCluster,
      at: NOW + 10_000,
      kind: 'createDriver',
      creates: true,
    },
    {
      name: 'ephemeral cluster refused, backoff not passed: nothing sent',
      j: ephemeral,
      at: NOW + 1000,
      kind: 'createCluster',
      creates: false,
    },
    {
      name: 'ephemeral cluster refused, backoff passed: sent again',
      j: ephemeral,
      at: NOW + 10_000,
      kind: 'createCluster',
      creates: true,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const j = c.j();
      j.status = decideJob(j, c.cluster?.(), [], ready, NOW).status;
      const d = decideJob(j, c.cluster?.(), [], ready, c.at, { refused: { [c.kind]: refusal } });
      expect(kinds(d)).to.deep.equal(c.creates ? [c.kind] : []);
      if (!c.creates) expect(d.wakeAt).to.equal(refusal.retryAt);
      for (const type of ['Ready', 'Reconciling']) {
        const cond = d.status.conditions!.find((x) => x.type === type)!;
        expect(cond.reason, type).to.equal('FailedCreate');
        expect(cond.message).to.equal(`the API server refused it: ${refusal.message}`);
      }
      expect(d.status.failed, 'no failure counted').to.equal(0);
    });
  }
});

describe('claiming a driver name: adopt an orphan with the labels the job would give it (issue 11)', () => {
  const j = job();
  const own = driverPod(j, 0, { cluster: readyCluster() });
  const orphan = (mut: (p: V1Pod) => void = () => {}) => {
    const p = structuredClone(own);
    delete p.metadata!.ownerReferences;
    mut(p);
    return p;
  };
  const label = (k: string, v: string | undefined) => (p: V1Pod) => {
    if (v === undefined) delete p.metadata!.labels![k];
    else p.metadata!.labels![k] = v;
  };
  const cases: { name: string; pod: V1Pod; why?: RegExp }[] = [
    { name: "an orphan with the driver's labels", pod: orphan() },
    { name: 'a pod another controller controls', pod: own, why: /controlled by ComputeJob j/ },
    {
      name: 'an orphan being deleted',
      pod: orphan((p) => (p.metadata!.deletionTimestamp = new Date(NOW))),
      why: /being deleted/,
    },
    { name: "another job's driver", pod: orphan(label(LABELS.job, 'other')), why: /labels/ },
    { name: 'a driver made for another cluster', pod: orphan(label(LABELS.cluster, 'elsewhere')), why: /labels/ },
    { name: 'another attempt of this job', pod: orphan(label(LABELS.attempt, '1')), why: /labels/ },
    { name: 'not a driver', pod: orphan(label(LABELS.role, 'worker')), why: /labels/ },
    { name: "not Gaffer's", pod: orphan(label(LABELS.managedBy, undefined)), why: /labels/ },
    {
      name: 'the driver of an earlier job of the same name (deleted with --cascade=orphan)',
      pod: orphan(label(LABELS.jobUid, 'uid-of-the-deleted-job')),
      why: /labels/,
    },
    { name: 'a driver without the job-uid label', pod: orphan(label(LABELS.jobUid, undefined)), why: /labels/ },
  ];
  for (const c of cases)
    it(`${c.name}: ${c.why ? 'not adoptable' : 'adopted'}`, () => {
      const why = whyDriverNotAdoptable(j, 'minimal', c.pod);
      if (c.why) expect(why).to.match(c.why);
      else expect(why).to.equal(undefined);
    });
});

describe('decideJob: drivers of ended attempts still alive are deleted while the job runs or waits (review #1)', () => {
  const at = (s: number) => new Date(NOW + s * 1000).toISOString();
  /** Attempt 0 ended (its delete lost); attempt 1 running, or none yet (`retryAt`: the backoff). */
  const after0 = (o: { attempt1?: boolean; retryAtS?: number } = {}) => {
    const j = job((x) => (x.spec.backoffLimit = 5));
    const ended = { index: 0, podName: 'j-driver-0', masterUID: 'm1', podUID: 'uid-j-driver-0', startTime: at(0) };
    j.status = {
      phase: o.attempt1 ? 'Running' : 'Retrying',
      startTime: at(0),
      attemptCount: o.attempt1 ? 2 : 1,
      failed: 1,
      attempts: [
        { ...ended, finishTime: at(3), reason: 'Unschedulable', counted: true },
        ...(o.attempt1
          ? [{ index: 1, podName: 'j-driver-1', masterUID: 'm1', podUID: 'uid-j-driver-1', startTime: at(4) }]
          : []),
      ],
      ...(o.retryAtS !== undefined ? { nextAttemptTime: at(o.retryAtS) } : {}),
    };
    return j;
  };
  const stray = (j: ValidComputeJob, s: Parameters<typeof driverPod>[2]) => driverPod(j, 0, s);
  const cases: {
    name: string;
    j: () => ValidComputeJob;
    stray: Parameters<typeof driverPod>[2];
    nodes?: ReturnType<typeof nodes>;
    want: string[];
    grace?: number;
  }[] = [
    {
      name: 'Retrying, the old driver Pending: deleted',
      j: () => after0({ retryAtS: 60 }),
      stray: { phase: 'Pending', node: null },
      want: ['deleteDriver j-driver-0'],
    },
    {
      name: 'the next attempt running, the old driver Running: deleted',
      j: () => after0({ attempt1: true }),
      stray: { phase: 'Running' },
      want: ['deleteDriver j-driver-0'],
    },
    {
      name: 'the backoff passed, the old driver alive: deleted, and the next attempt waits for it to stop (one driver per job)',
      j: () => after0({ retryAtS: 1 }),
      stray: { phase: 'Pending', node: null },
      want: ['deleteDriver j-driver-0'],
    },
    {
      name: 'the backoff passed, the old driver terminating: the next attempt starts',
      j: () => after0({ retryAtS: 1 }),
      stray: { phase: 'Running', terminating: true },
      want: ['createDriver j-driver-1'],
    },
    {
      name: 'the old driver on a lost node: forced out (grace 0)',
      j: () => after0({ retryAtS: 60 }),
      stray: { phase: 'Running' },
      nodes: nodes(node('n1', { ready: false, sinceS: 3600 })),
      want: ['deleteDriver j-driver-0'],
      grace: 0,
    },
    {
      name: 'the old driver exited: kept for its logs',
      j: () => after0({ retryAtS: 60 }),
      stray: { phase: 'Failed' },
      want: [],
    },
    {
      name: 'the old driver already terminating: not deleted again',
      j: () => after0({ retryAtS: 60 }),
      stray: { phase: 'Running', terminating: true },
      want: [],
    },
    {
      name: 'the old driver terminating gracefully on a node since lost: forced out (grace 0), no kubelet will finish it',
      j: () => after0({ retryAtS: 60 }),
      stray: { phase: 'Running', terminating: true },
      nodes: nodes(node('n1', { ready: false, sinceS: 3600 })),
      want: ['deleteDriver j-driver-0'],
      grace: 0,
    },
  ];
  const planned = (d: ReturnType<typeof decideJob>) =>
    d.actions.flatMap((a) => {
      if (a.kind === 'deleteDriver') return [`deleteDriver ${a.name}`];
      return a.kind === 'createDriver' ? [`createDriver ${a.pod.metadata?.name}`] : [];
    });
  for (const c of cases) {
    it(c.name, () => {
      const j = c.j();
      const pods = [stray(j, c.stray), ...(j.status!.attempts!.length > 1 ? [driver(j, 1, 'Running')] : [])];
      const d = decideJob(j, readyCluster(), pods, c.nodes ?? ready, NOW + 10_000);
      expect(planned(d)).to.deep.equal(c.want);
      const del = d.actions.find((a) => a.kind === 'deleteDriver');
      if (del?.kind === 'deleteDriver') expect(del.gracePeriodSeconds).to.equal(c.grace);
      expect(d.status.attempts![0]!.finishTime, 'the ended attempt stays as it was').to.equal(at(3));
    });
  }

  it('says why the next attempt waits (WaitingForDriverStop, the driver named)', () => {
    const j = after0({ retryAtS: 1 });
    const d = decideJob(j, readyCluster(), [stray(j, { phase: 'Running' })], ready, NOW + 10_000);
    const ready0 = d.status.conditions!.find((c) => c.type === 'Ready')!;
    expect(ready0.reason).to.equal('WaitingForDriverStop');
    expect(ready0.message).to.include('j-driver-0');
    expect(d.status.attemptCount).to.equal(1);
    expect(d.wakeAt).to.equal(NOW + 15_000);
  });

  it('deletes the driver once when its attempt ends in the same decision (startup deadline)', () => {
    const j = job((x) => (x.spec.startupDeadlineSeconds = 3));
    j.status = decideJob(j, readyCluster(), [], ready, NOW).status;
    const d = decideJob(j, readyCluster(), [driver(j, 0, 'Pending')], ready, NOW + 4000);
    expect(d.status.attempts![0]!.finishTime).to.be.a('string');
    expect(planned(d)).to.deep.equal(['deleteDriver j-driver-0']);
  });
});

describe('decideJob: a driver created and gone before the cache recorded it is not created again (review #3)', () => {
  /** Attempt 0 started, its driver never in the cache. */
  const started = () => {
    const j = job((x) => (x.spec.backoffLimit = 0));
    j.status = decideJob(j, readyCluster(), [], ready, NOW).status;
    return j;
  };
  const evicted = (j: ValidComputeJob, uid: string) => {
    const p = driverPod(j, 0, { phase: 'Running', terminating: true, uid });
    p.status!.conditions!.push({ type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI' });
    return p;
  };
  const cases: {
    name: string;
    created?: { name: string; uid: string };
    gone?: (j: ValidComputeJob) => V1Pod[];
    want: { kinds: string[]; reason?: string; podUID?: string };
  }[] = [
    {
      name: 'created by this operator (uid known), missing: PodDeleted, recorded, not created again',
      created: { name: 'j-driver-0', uid: 'uid-made' },
      want: { kinds: [], reason: 'PodDeleted', podUID: 'uid-made' },
    },
    {
      name: 'created, missing, its last state disrupted: that reason',
      created: { name: 'j-driver-0', uid: 'uid-made' },
      gone: (j) => [evicted(j, 'uid-made')],
      want: { kinds: [], reason: 'EvictionByEvictionAPI', podUID: 'uid-made' },
    },
    {
      name: "another attempt's create known: this driver is still to create",
      created: { name: 'j-driver-7', uid: 'uid-other' },
      want: { kinds: ['createDriver'] },
    },
    {
      name: 'no create known (a restarted operator): created',
      want: { kinds: ['createDriver'] },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const j = started();
      const d = decideJob(j, readyCluster(), [], ready, NOW + 1000, {
        createdDriver: c.created,
        gone: c.gone?.(j),
      });
      expect(kinds(d)).to.deep.equal(c.want.kinds);
      expect(d.status.attempts![0]!.reason).to.equal(c.want.reason);
      expect(d.status.attempts![0]!.podUID).to.equal(c.want.podUID);
    });
  }
});

describe('decideJob: a driver never created whose master was lost moves to the new master (review #5)', () => {
  const notReady = (uid?: string): ValidComputeCluster => {
    const c = readyCluster(uid ?? 'none');
    if (!uid) delete c.status!.master;
    c.status!.conditions![0]!.status = 'False';
    return c;
  };
  /** Attempt 0 started on m1; `seen`: its driver was in the cache once (podUID). */
  const started = (seen = false) => {
    const j = job();
    j.status = decideJob(j, readyCluster('m1'), [], ready, NOW).status;
    if (seen) j.status.attempts![0]!.podUID = 'uid-j-driver-0';
    return j;
  };
  const m2 = masterPod(readyCluster('m2'), { uid: 'm2' });
  const cases: {
    name: string;
    seen?: boolean;
    cluster: ValidComputeCluster;
    masters: V1Pod[];
    at?: number;
    refused?: boolean;
    want: { kinds: string[]; masterUID: string; ended?: string; progress?: string; phase?: string };
  }[] = [
    {
      name: 'the new master Ready: re-targeted, the driver created',
      cluster: readyCluster('m2'),
      masters: [m2],
      want: { kinds: ['createDriver'], masterUID: 'm2' },
    },
    {
      name: 'the new master Ready, the create refused and backing off: re-targeted, nothing sent',
      cluster: readyCluster('m2'),
      masters: [m2],
      refused: true,
      want: { kinds: [], masterUID: 'm2', progress: 'FailedCreate' },
    },
    {
      name: 'no master yet: nothing created, waiting for the master',
      cluster: notReady(),
      masters: [],
      want: { kinds: [], masterUID: 'm1', progress: 'WaitingForMaster' },
    },
    {
      name: 'the status names the old master, its pod gone: nothing created',
      cluster: readyCluster('m1'),
      masters: [],
      want: { kinds: [], masterUID: 'm1', progress: 'WaitingForMaster' },
    },
    {
      name: 'still no master after clusterReadyTimeoutSeconds: the job fails ClusterNotReady',
      cluster: notReady(),
      masters: [],
      at: NOW + 601_000,
      want: { kinds: [], masterUID: 'm1', ended: 'ClusterNotReady', phase: 'Failed' },
    },
    {
      name: 'a driver once seen and now gone: the attempt ends (MasterRestarted), no re-target',
      seen: true,
      cluster: readyCluster('m2'),
      masters: [m2],
      want: { kinds: [], masterUID: 'm1', ended: 'MasterRestarted', phase: 'Retrying' },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const j = started(c.seen);
      // A job woken first at NOW + 1 s (so clusterWaitStartTime is then), then at `at`.
      const first = decideJob(j, c.cluster, [], ready, NOW + 1000, {
        masters: c.masters,
        refused: c.refused ? { createDriver: { message: 'denied', retryAt: NOW + 60_000 } } : {},
      });
      const d = c.at
        ? decideJob({ ...j, status: first.status }, c.cluster, [], ready, c.at, { masters: c.masters })
        : first;
      expect(kinds(d)).to.deep.equal(c.want.kinds);
      const a = d.status.attempts![0]!;
      expect(a.masterUID).to.equal(c.want.masterUID);
      expect(a.reason).to.equal(c.want.ended);
      expect(d.status.phase).to.equal(c.want.phase ?? 'Running');
      if (c.want.progress)
        expect(d.status.conditions!.find((x) => x.type === 'Ready')!.reason).to.equal(c.want.progress);
      if (c.want.kinds.includes('createDriver')) expect(d.status.clusterWaitStartTime).to.equal(undefined);
    });
  }
});

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
import { decideJob, ruleAction } from '../../src/controllers/computejob/decide.ts';
import { DepartedDrivers } from '../../src/controllers/computejob/departed.ts';
import { NOW, driverPod, node, nodes, type PodPhase } from '../fixtures/pods.ts';
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
    const d = decideJob(j, readyCluster(), [], ready, NOW + 1000, [disrupted(j, 'EvictionByEvictionAPI')]);
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

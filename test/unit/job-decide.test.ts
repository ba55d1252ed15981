// The ComputeJob decisions are pure: tested here without an API server.
import { expect } from 'chai';
import type { V1Pod } from '@kubernetes/client-node';
import { validateObject, type ComputeCluster, type ComputeJob } from '../../src/api/v1alpha1/index.ts';
import { decideJob, ruleAction } from '../../src/controllers/computejob/decide.ts';
import { minimalCluster, minimalJob } from '../fixtures/specs.ts';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const job = (mut: (j: any) => void = () => {}): ComputeJob => {
  const j = minimalJob();
  j.metadata = { name: 'j', namespace: 'ns', uid: 'uid-j', generation: 1 };
  mut(j);
  return validateObject<ComputeJob>(j).value;
};
const readyCluster = (uid = 'm1'): ComputeCluster => {
  const c = validateObject<ComputeCluster>({
    ...minimalCluster(),
    metadata: { name: 'minimal', namespace: 'ns', uid: 'uid-c', generation: 1 },
  }).value;
  c.status = {
    master: { uid },
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'Ready',
        message: '',
        lastTransitionTime: '2026-01-01T00:00:00Z',
        observedGeneration: 1,
      },
    ],
  };
  return c;
};
const driver = (name: string, phase: string, exitCode?: number): V1Pod => ({
  metadata: { name, uid: `uid-${name}` },
  spec: { containers: [], nodeName: 'n1' },
  status: {
    phase,
    containerStatuses:
      exitCode === undefined
        ? []
        : [
            {
              name: 'd',
              image: 'x',
              imageID: '',
              ready: false,
              restartCount: 0,
              state: { terminated: { exitCode, reason: exitCode ? 'Error' : 'Completed' } },
            },
          ],
  } as any,
});
const ready = new Map([
  ['n1', { metadata: { name: 'n1' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } } as any],
]);
const kinds = (d: ReturnType<typeof decideJob>) => d.actions.filter((a) => a.kind !== 'event').map((a) => a.kind);

describe('decideJob', () => {
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
    expect((again.actions[0] as any).pod.metadata.name).to.equal('j-driver-0');
    expect(again.status.attemptCount).to.equal(1);
  });

  it('counts a failure, schedules the retry with backoff, and fails past backoffLimit', () => {
    const j = job((x) => {
      x.spec.backoffLimit = 1;
    });
    j.status = decideJob(j, readyCluster(), [], ready, NOW).status;
    const f1 = decideJob(j, readyCluster(), [driver('j-driver-0', 'Failed', 1)], ready, NOW + 5000);
    expect(f1.status).to.include({
      phase: 'Retrying',
      failed: 1,
      nextAttemptTime: new Date(NOW + 15_000).toISOString(),
    });
    j.status = f1.status;
    expect(
      decideJob(j, readyCluster(), [driver('j-driver-0', 'Failed', 1)], ready, NOW + 15_000).status.attemptCount,
    ).to.equal(2);
    j.status = decideJob(j, readyCluster(), [driver('j-driver-0', 'Failed', 1)], ready, NOW + 15_000).status;
    const f2 = decideJob(
      j,
      readyCluster(),
      [driver('j-driver-0', 'Failed', 1), driver('j-driver-1', 'Failed', 1)],
      ready,
      NOW + 20_000,
    );
    expect(f2.status).to.include({ phase: 'Failed', reason: 'BackoffLimitExceeded', failed: 2 });
  });

  it('ends the attempt with MasterRestarted when the master changes; the default rule ignores it', () => {
    const j = job();
    j.status = decideJob(j, readyCluster('m1'), [], ready, NOW).status;
    const d = decideJob(j, readyCluster('m2'), [driver('j-driver-0', 'Running')], ready, NOW + 1000);
    expect(d.status.attempts![0]).to.include({ reason: 'MasterRestarted', counted: false });
    expect(d.status.failed).to.equal(0);
    expect(kinds(d)).to.deep.equal(['deleteDriver']);
  });

  it('matches failurePolicy rules in order', () => {
    const rules: any = [
      { action: 'FailJob', onExitCodes: { operator: 'In', values: [2] } },
      { action: 'Ignore', onExitCodes: { operator: 'NotIn', values: [1, 2] } },
      { action: 'Ignore', onReasons: ['Evicted'] },
    ];
    expect([
      ruleAction(rules, 2, 'Error'),
      ruleAction(rules, 7, 'Error'),
      ruleAction(rules, 1, 'Error'),
      ruleAction(rules, undefined, 'Evicted'),
      ruleAction(undefined, 1, 'x'),
    ]).to.deep.equal(['FailJob', 'Ignore', 'Count', 'Ignore', 'Count']);
  });

  it('succeeds, reports nothing running, and schedules the TTL deletion', () => {
    const j = job((x) => {
      x.spec.ttlSecondsAfterFinished = 60;
    });
    j.status = decideJob(j, readyCluster(), [], ready, NOW).status;
    const d = decideJob(j, readyCluster(), [driver('j-driver-0', 'Succeeded', 0)], ready, NOW + 65_000);
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
    const d = decideJob(j, readyCluster(), [driver('j-driver-0', 'Running')], ready, NOW + 10_000);
    expect(d.status).to.include({ phase: 'Failed', reason: 'DeadlineExceeded' });
    expect(kinds(d)).to.deep.equal(['deleteDriver']);
  });
});

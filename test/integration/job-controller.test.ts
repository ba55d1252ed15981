// The ComputeJob controller on the real control plane: KWOK completes the driver with a
// chosen exit code after a chosen delay (hack/README.md).
import { expect } from 'chai';
import {
  apply,
  cond,
  envOf,
  k,
  setup,
  sleep,
  waitFor,
  withOperatorThroughFaultProxy,
  whileNodeNotReady,
} from './harness.ts';
import type { FaultProxy, SeenRequest } from '../../hack/fault-proxy.ts';

const image = 'registry.invalid/compute:1';
const clusterSpec = (o: { workers?: number; nodeLossSeconds?: number } = {}) => ({
  master: { template: { spec: { containers: [{ name: 'master', image, ports: [{ containerPort: 7077 }] }] } } },
  workers: { replicas: o.workers ?? 1, template: { spec: { containers: [{ name: 'worker', image }] } } },
  podRecovery: { backoff: { initialSeconds: 1, maxSeconds: 2 }, nodeLossSeconds: o.nodeLossSeconds ?? 60 },
});

function jobManifest(
  name: string,
  o: { cluster?: string; template?: boolean; sim?: Record<string, string>; extra?: any; nodeLossSeconds?: number } = {},
): any {
  return {
    apiVersion: 'compute.gaffer.dev/v1alpha1',
    kind: 'ComputeJob',
    metadata: { name },
    spec: {
      ...(o.template
        ? { clusterTemplate: { spec: clusterSpec({ nodeLossSeconds: o.nodeLossSeconds }) } }
        : { clusterRef: { name: o.cluster ?? 'shared' } }),
      backoff: { initialSeconds: 2, maxSeconds: 10 },
      template: {
        metadata: { annotations: o.sim ?? {} },
        spec: { restartPolicy: 'Never', containers: [{ name: 'driver', image }] },
      },
      ...(o.extra ?? {}),
    },
  };
}

describe('ComputeJob controller', function () {
  this.timeout(240_000);
  const s = setup('cj', { operator: ['--resync-period', '1m'] });

  const job = (name: string) => s.ns.get('computejob', name);
  const cc = (name: string) => s.ns.get('computecluster', name);
  const phase = (name: string, p: string, timeout = 60_000) =>
    s.ns.until('computejob', name, p, (j) => j.status?.phase === p, timeout, 200);
  const drivers = async (name: string) =>
    (await s.ns.list('pods', `compute.gaffer.dev/job=${name}`)).filter((p: any) => !p.metadata.deletionTimestamp);
  const driverRunning = (name: string, timeout?: number) =>
    waitFor('driver running', async () => (await drivers(name))[0]?.status?.phase === 'Running', timeout);
  const sharedCluster = async (name = 'shared', o: { nodeLossSeconds?: number } = {}) => {
    await s.ns.apply({
      apiVersion: 'compute.gaffer.dev/v1alpha1',
      kind: 'ComputeCluster',
      metadata: { name },
      spec: clusterSpec(o),
    });
    await waitFor(`${name} Ready`, async () => cond(await cc(name), 'Ready')?.status === 'True');
  };
  /** KWOK completes the driver after `after` with this exit code (hack/README.md). */
  const exits = (after: string, code?: number) => ({
    'sim.gaffer.dev/complete-after': after,
    ...(code === undefined ? {} : { 'sim.gaffer.dev/exit-code': String(code) }),
  });
  /** A job whose driver exits with `code` after 1 s, and a failurePolicy rule: `action` on that code. */
  const applyRuleJob = (name: string, code: number, action: string, extra: object) =>
    s.ns.apply(
      jobManifest(name, {
        sim: exits('1s', code),
        extra: { ...extra, failurePolicy: { rules: [{ action, onExitCodes: { operator: 'In', values: [code] } }] } },
      }),
    );
  /** A new cluster, and a job (backoffLimit 0, 1 s backoff) with its driver running on it: the attempt's master uid. */
  const runningOn = async (cluster: string, name: string): Promise<string> => {
    await sharedCluster(cluster);
    await s.ns.apply(
      jobManifest(name, { cluster, extra: { backoffLimit: 0, backoff: { initialSeconds: 1, maxSeconds: 1 } } }),
    );
    const r = await phase(name, 'Running');
    await driverRunning(name);
    return r.status.attempts[0].masterUID;
  };
  const suspend = (name: string, suspend: boolean) => s.ns.patch('cjob', name, { spec: { suspend } });
  /**
   * A ValidatingAdmissionPolicy refusing the driver pods of job `name` (in force when this
   * returns: a server dry run is refused); what it returns removes it.
   */
  const refuseDriversOf = async (name: string): Promise<() => Promise<void>> => {
    const policy = `${s.ns.name}-no-drivers-${name}`;
    await apply([
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicy',
        metadata: { name: policy },
        spec: {
          failurePolicy: 'Fail',
          matchConstraints: {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': s.ns.name } },
            resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }],
          },
          validations: [
            {
              expression: `object.metadata.?labels[?'compute.gaffer.dev/job'].orValue('') != '${name}'`,
              message: `drivers of job ${name} are not allowed (test policy)`,
            },
          ],
        },
      },
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicyBinding',
        metadata: { name: policy },
        spec: { policyName: policy, validationActions: ['Deny'] },
      },
    ]);
    const remove = () =>
      k(['delete', 'validatingadmissionpolicybinding,validatingadmissionpolicy', policy, '--ignore-not-found']);
    const probe = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `probe-${name}`, labels: { 'compute.gaffer.dev/job': name } },
      spec: { containers: [{ name: 'c', image }] },
    };
    try {
      await waitFor(
        'the policy in force',
        async () => (await s.ns.run(['create', '--dry-run=server', '-f', '-'], JSON.stringify(probe))).code !== 0,
        30_000,
      );
    } catch (e) {
      await remove();
      throw e;
    }
    return async () => void (await remove());
  };

  it('waits for a clusterRef cluster, runs the driver wired to it, and succeeds on exit 0', async () => {
    await s.ns.apply(jobManifest('first', { cluster: 'later', sim: exits('3s') }));
    const waiting = await phase('first', 'WaitingForCluster');
    expect(cond(waiting, 'Reconciling').status).to.equal('True');
    await sharedCluster('later');
    const running = await phase('first', 'Running');
    const [driver] = await drivers('first');
    expect(driver.metadata.name).to.equal('first-driver-0');
    expect(envOf(driver)).to.deep.include({
      GAFFER_ROLE: 'driver',
      GAFFER_JOB: 'first',
      GAFFER_ATTEMPT: '0',
      GAFFER_CLUSTER: 'later',
      GAFFER_MASTER_ADDR: `later-master.${s.ns.name}.svc:7077`,
      GAFFER_WORKERS: '1',
    });
    expect(driver.spec.restartPolicy).to.equal('Never');
    expect(running.status.attempts[0].masterUID).to.equal((await cc('later')).status.master.uid);
    await waitFor('activeJobs 1', async () => (await cc('later')).status.activeJobs === 1);
    const done = await phase('first', 'Succeeded');
    expect(cond(done, 'Complete').status).to.equal('True');
    expect(cond(done, 'Ready').status).to.equal('True');
    expect(done.status.attempts).to.have.length(1);
    expect(done.status.attempts[0]).to.include({ index: 0, exitCode: 0, podName: 'first-driver-0' });
    expect(done.status.attempts.every((a: any) => a.finishTime)).to.equal(true); // nothing reported as running
    expect(done.status.duration).to.match(/^\d+s$/);
    await waitFor('activeJobs 0', async () => (await cc('later')).status.activeJobs === 0);
    await s.ns.k(['wait', '--for=condition=Complete', 'computejob/first', '--timeout=5s']);
  });

  it('fails with ClusterNotReady after clusterReadyTimeoutSeconds', async () => {
    await s.ns.apply(jobManifest('orphan', { cluster: 'nowhere', extra: { clusterReadyTimeoutSeconds: 3 } }));
    const j = await phase('orphan', 'Failed', 30_000);
    expect(j.status.reason).to.equal('ClusterNotReady');
    expect(cond(j, 'Failed').status).to.equal('True');
  });

  it('runs on an ephemeral cluster it owns and deletes it afterwards (cleanupPolicy Delete)', async () => {
    await s.ns.apply(jobManifest('eph', { template: true, sim: exits('2s') }));
    const c = await waitFor('ephemeral cluster', async () => (await s.ns.exists('cc', 'eph')) && cc('eph'));
    const j = await job('eph');
    expect(c.metadata.ownerReferences[0]).to.include({
      kind: 'ComputeJob',
      name: 'eph',
      uid: j.metadata.uid,
      controller: true,
    });
    await phase('eph', 'Succeeded');
    await s.ns.untilGone('cc', 'eph', 30_000);
  });

  it('waits for the old ephemeral cluster of a deleted and re-created job to go, then runs (issue 11 #4)', async () => {
    const manifest = jobManifest('replaced', { template: true, sim: exits('2s') });
    await s.ns.apply(manifest);
    await waitFor('ephemeral cluster', () => s.ns.exists('cc', 'replaced'));
    // Hold the old cluster's deletion, as a slow garbage collector or a finalizer would.
    await s.ns.patch('cc', 'replaced', { metadata: { finalizers: ['test.gaffer.dev/hold'] } });
    try {
      // kubectl replace --force / Argo CD Replace: delete the job, then create it again at once.
      await s.ns.delete('computejob', 'replaced', '--wait=false');
      await s.ns.untilGone('computejob', 'replaced');
      await s.ns.apply(manifest);
      const waiting = await s.ns.until(
        'computejob',
        'replaced',
        'waiting for the old cluster to go',
        (j) => cond(j, 'Reconciling')?.reason === 'WaitingForClusterDeletion' || j.status?.phase === 'Failed',
        60_000,
        200,
      );
      expect(waiting.status.phase, `${waiting.status.reason}: ${waiting.status.message}`).to.equal('WaitingForCluster');
      await s.ns.until('cc', 'replaced', 'being deleted', (c) => !!c.metadata.deletionTimestamp);
      await sleep(2000);
      expect((await job('replaced')).status.phase).to.equal('WaitingForCluster');
    } finally {
      await s.ns.patch('cc', 'replaced', { metadata: { finalizers: null } });
    }
    const done = await phase('replaced', 'Succeeded', 120_000);
    const c = await cc('replaced').catch(() => undefined);
    if (c) expect(c.metadata.ownerReferences[0].uid).to.equal(done.metadata.uid);
  });

  it('keeps the ephemeral cluster of a failed job with cleanupPolicy KeepOnFailure', async () => {
    await s.ns.apply(
      jobManifest('keepit', {
        template: true,
        sim: exits('1s', 1),
        extra: { backoffLimit: 0, cleanupPolicy: 'KeepOnFailure' },
      }),
    );
    const j = await phase('keepit', 'Failed');
    expect(j.status.reason).to.equal('BackoffLimitExceeded');
    await sleep(2000);
    expect(await s.ns.exists('cc', 'keepit')).to.equal(true);
  });

  it('retries failed attempts after the exponential backoff until backoffLimit counted failures', async () => {
    await sharedCluster();
    await s.ns.apply(jobManifest('flaky', { sim: exits('1s', 1), extra: { backoffLimit: 2 } }));
    const retrying = await phase('flaky', 'Retrying');
    expect(retrying.status.nextAttemptTime).to.be.a('string');
    const j = await phase('flaky', 'Failed', 90_000);
    expect(j.status.reason).to.equal('BackoffLimitExceeded');
    expect(j.status.failed).to.equal(3);
    expect(j.status.attemptCount).to.equal(3);
    const a = j.status.attempts;
    expect(a.map((x: any) => [x.index, x.exitCode, x.counted])).to.deep.equal([
      [0, 1, true],
      [1, 1, true],
      [2, 1, true],
    ]);
    // Doubling delay: 2 s, then 4 s between the end of one attempt and the start of the next.
    const gap = (i: number) => Date.parse(a[i + 1].startTime) - Date.parse(a[i].finishTime);
    expect(gap(0)).to.be.greaterThanOrEqual(1900);
    expect(gap(1)).to.be.greaterThanOrEqual(3900);
    expect(await drivers('flaky')).to.have.length(3); // finished drivers are kept for their logs
  });

  it('applies failurePolicy rules: FailJob by exit code', async () => {
    await applyRuleJob('usage', 2, 'FailJob', { backoffLimit: 5 });
    const j = await phase('usage', 'Failed');
    expect(j.status.reason).to.equal('FailedByRule');
    expect(j.status.attemptCount).to.equal(1);
  });

  it('applies failurePolicy rules: Ignore does not count', async () => {
    await applyRuleJob('ignored', 3, 'Ignore', { backoffLimit: 0, backoff: { initialSeconds: 1, maxSeconds: 1 } });
    const later = await s.ns.until(
      'computejob',
      'ignored',
      'two ignored attempts',
      (j) => (j.status?.attempts ?? []).filter((a: any) => a.finishTime).length >= 2,
      60_000,
    );
    expect(later.status.phase).to.not.equal('Failed');
    expect(later.status.failed).to.equal(0);
    expect(later.status.attempts.filter((a: any) => a.finishTime).every((a: any) => a.counted === false)).to.equal(
      true,
    );
    await s.ns.delete('computejob', 'ignored');
  });

  it('ends an attempt with MasterRestarted when the master changes, and retries it without counting', async () => {
    const oldMaster = await runningOn('mcluster', 'survivor');
    await s.ns.annotate('pod', 'mcluster-master', { 'sim.gaffer.dev/fail-after': '0s' });
    const j = await s.ns.until(
      'computejob',
      'survivor',
      'second attempt running',
      (j) => j.status.attempts?.length === 2 && j.status.phase === 'Running',
      60_000,
    );
    expect(j.status.attempts[0]).to.include({ reason: 'MasterRestarted', counted: false });
    expect(j.status.attempts[1].masterUID).to.not.equal(oldMaster);
    expect(j.status.failed).to.equal(0);
    await waitFor(
      'old driver gone',
      async () => (await drivers('survivor')).map((p: any) => p.metadata.name).join() === 'survivor-driver-1',
    );
    await s.ns.delete('computejob', 'survivor');
  });

  it("forces out an ended attempt's driver left terminating on a node that is then lost (no kubelet will finish it)", async () => {
    await sharedCluster('strayc', { nodeLossSeconds: 3 });
    await s.ns.apply(
      jobManifest('strayj', {
        cluster: 'strayc',
        // No kubelet confirms its graceful delete: it stays Terminating, as on a node that died.
        sim: { 'sim.gaffer.dev/kubelet-gone': 'true' },
        extra: { backoffLimit: 0, backoff: { initialSeconds: 1, maxSeconds: 1 } },
      }),
    );
    await driverRunning('strayj');
    const old = (await drivers('strayj'))[0];
    // The master fails: the attempt ends (MasterRestarted) and its driver is deleted gracefully.
    await s.ns.annotate('pod', 'strayc-master', { 'sim.gaffer.dev/fail-after': '0s' });
    await waitFor(
      'the old driver terminating',
      async () => !!(await s.ns.get('pod', 'strayj-driver-0')).metadata.deletionTimestamp,
      60_000,
    );
    const stillThere = async () =>
      (await s.ns.list('pods', 'compute.gaffer.dev/job=strayj')).some((p: any) => p.metadata.uid === old.metadata.uid);
    await sleep(2000);
    expect(await stillThere(), 'terminating while its node is Ready').to.equal(true);
    await whileNodeNotReady(old.spec.nodeName, () =>
      waitFor('the old driver forced out once its node is lost', async () => !(await stillThere()), 60_000),
    );
    await s.ns.delete('computejob', 'strayj');
  });

  it('treats an evicted driver (reason Evicted) and a lost node (NodeLost) as not counted', async () => {
    await sharedCluster('nl', { nodeLossSeconds: 3 });
    await s.ns.apply(
      jobManifest('evictee', {
        cluster: 'nl',
        extra: { backoffLimit: 0, backoff: { initialSeconds: 1, maxSeconds: 1 } },
      }),
    );
    await driverRunning('evictee');
    await s.ns.annotate('pod', 'evictee-driver-0', {
      'sim.gaffer.dev/fail-after': '0s',
      'sim.gaffer.dev/pod-reason': 'Evicted',
    });
    await waitFor(
      'attempt 1 running',
      async () =>
        (await drivers('evictee')).some(
          (p: any) => p.metadata.name === 'evictee-driver-1' && p.status?.phase === 'Running',
        ),
      60_000,
    );
    const node = (await drivers('evictee')).find((p: any) => p.metadata.name === 'evictee-driver-1').spec.nodeName;
    await whileNodeNotReady(node, async () => {
      const j = await s.ns.until(
        'computejob',
        'evictee',
        'NodeLost',
        (j) => j.status.attempts?.[1]?.reason === 'NodeLost',
        60_000,
      );
      expect(j.status.attempts[0]).to.include({ reason: 'Evicted', counted: false });
      expect(j.status.attempts[1]).to.include({ counted: false });
      expect(j.status.failed).to.equal(0);
    });
    await s.ns.delete('computejob', 'evictee');
  });

  it('restarts a driver evicted through the Eviction API without counting it: a drain does not fail backoffLimit 0 (issue 11 #6)', async () => {
    await sharedCluster('drained');
    await s.ns.apply(
      jobManifest('drainee', {
        cluster: 'drained',
        sim: exits('10s'),
        extra: { backoffLimit: 0, backoff: { initialSeconds: 1, maxSeconds: 1 } },
      }),
    );
    await driverRunning('drainee');
    // What kubectl drain does: POST pods/eviction (the API server sets DisruptionTarget, then deletes).
    const eviction = {
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name: 'drainee-driver-0', namespace: s.ns.name },
    };
    await s.ns.k(
      ['create', '--raw', `/api/v1/namespaces/${s.ns.name}/pods/drainee-driver-0/eviction`, '-f', '-'],
      JSON.stringify(eviction),
    );
    const j = await s.ns.until(
      'computejob',
      'drainee',
      'finished',
      (j) => ['Succeeded', 'Failed'].includes(j.status?.phase),
      90_000,
      200,
    );
    expect(j.status.phase, `${j.status.reason}: ${j.status.message}`).to.equal('Succeeded');
    expect(j.status.attempts[0]).to.include({ reason: 'EvictionByEvictionAPI', counted: false });
    expect(j.status.attempts[1]).to.include({ reason: 'Succeeded' });
    expect(j.status.failed).to.equal(0);
  });

  it('fails with DeadlineExceeded after activeDeadlineSeconds and stops the driver', async () => {
    await s.ns.apply(jobManifest('slow', { extra: { activeDeadlineSeconds: 4 } }));
    await driverRunning('slow');
    const j = await phase('slow', 'Failed', 30_000);
    expect(j.status.reason).to.equal('DeadlineExceeded');
    await waitFor('driver stopped', async () => (await drivers('slow')).length === 0, 30_000);
    expect(j.status.attempts.every((a: any) => a.finishTime)).to.equal(true);
  });

  it('fails an attempt that does not start within startupDeadlineSeconds with the blocker as its reason', async () => {
    await s.ns.apply(
      jobManifest('stuck', {
        sim: { 'sim.gaffer.dev/image-pull-error': 'true' },
        extra: { backoffLimit: 0, startupDeadlineSeconds: 3 },
      }),
    );
    const j = await phase('stuck', 'Failed', 30_000);
    expect(j.status.attempts[0].reason).to.equal('ImagePullBackOff');
    expect(j.status.reason).to.equal('BackoffLimitExceeded');
  });

  it('names Unschedulable as the blocker of a driver that cannot be scheduled', async () => {
    await sharedCluster();
    const m = jobManifest('nowhere', { extra: { backoffLimit: 0, startupDeadlineSeconds: 3 } });
    m.spec.template.spec.nodeSelector = { 'gaffer.dev/no-such-node': 'true' };
    await s.ns.apply(m);
    const j = await phase('nowhere', 'Failed', 30_000);
    expect(j.status.attempts[0].reason).to.equal('Unschedulable');
    expect(j.status.attempts[0].message).to.match(/didn't match Pod's node affinity\/selector|node\(s\) didn't match/);
  });

  it('suspends (driver stopped, ephemeral cluster deleted) and resumes', async () => {
    await s.ns.apply(jobManifest('napper', { template: true }));
    await driverRunning('napper', 60_000);
    await suspend('napper', true);
    const suspended = await phase('napper', 'Suspended');
    expect(cond(suspended, 'Suspended').status).to.equal('True');
    await waitFor(
      'driver and cluster gone',
      async () => (await drivers('napper')).length === 0 && !(await s.ns.exists('cc', 'napper')),
      30_000,
    );
    await suspend('napper', false);
    const r = await s.ns.until(
      'computejob',
      'napper',
      'resumed',
      (j) => j.status.phase === 'Running' && j.status.attempts.length === 2,
      60_000,
    );
    expect(r.status.attempts[0]).to.include({ reason: 'Suspended', counted: false });
    await s.ns.delete('computejob', 'napper');
  });

  it('deletes a finished job and its pods after ttlSecondsAfterFinished', async () => {
    await s.ns.apply(jobManifest('shortlived', { sim: exits('1s'), extra: { ttlSecondsAfterFinished: 2 } }));
    await phase('shortlived', 'Succeeded');
    await s.ns.untilGone('cjob', 'shortlived', 30_000);
    await waitFor('driver deleted', async () => (await drivers('shortlived')).length === 0, 30_000);
  });

  it('is crash safe: an operator killed mid-attempt starts no second driver and keeps the count', async () => {
    await s.ns.apply(jobManifest('sturdy', { sim: exits('8s') }));
    await waitFor('driver created', async () => (await drivers('sturdy')).length === 1, 30_000, 50);
    s.op.signal('SIGKILL');
    await s.op.wait();
    await s.startOperator();
    const j = await phase('sturdy', 'Succeeded', 60_000);
    expect(j.status.attemptCount).to.equal(1);
    expect((await drivers('sturdy')).map((p: any) => p.metadata.name)).to.deep.equal(['sturdy-driver-0']);
  });

  it('fails running clusterRef jobs with a clear reason when their cluster is deleted; nothing hangs', async () => {
    await sharedCluster('doomed');
    await s.ns.apply(jobManifest('abandoned', { cluster: 'doomed' }));
    await driverRunning('abandoned');
    await s.ns.delete('computecluster', 'doomed', '--timeout=30s');
    const j = await phase('abandoned', 'Failed', 30_000);
    expect(j.status.reason).to.equal('ClusterDeleted');
    expect(j.status.message).to.include('doomed');
    await waitFor('driver stopped', async () => (await drivers('abandoned')).length === 0, 30_000);
  });

  it('reports a driver create the API server refuses as FailedCreate with its message, retries with backoff (no loop, nothing counted), and runs once allowed', async () => {
    await sharedCluster();
    // 422: a ValidatingAdmissionPolicy's refusal (not a 409 of some other object's pod).
    const refusedCreates = async () =>
      (await s.op.metrics())
        .filter(
          (l) => l.startsWith('rest_client_requests_total{') && /verb="create",resource="pods",code="422"/.test(l),
        )
        .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    const allow = await refuseDriversOf('refused');
    try {
      const before = await refusedCreates();
      await s.ns.apply(jobManifest('refused', { sim: exits('2s', 0) }));
      const ready = await waitFor('FailedCreate on Ready', async () => {
        const c = cond(await job('refused'), 'Ready');
        return c?.reason === 'FailedCreate' && c;
      });
      expect(ready.message).to.include('drivers of job refused are not allowed (test policy)');
      expect(cond(await job('refused'), 'Reconciling')?.reason).to.equal('FailedCreate');
      await sleep(10_000);
      // Backoff 2 s doubling to 10 s: about 4 tries in 10 s, not a loop.
      const tries = (await refusedCreates()) - before;
      expect(tries, 'refused creates in about 12 s').to.be.within(1, 6);
      expect((await s.ns.events('FailedCreate', 'refused')).length, 'one event per distinct message').to.equal(1);
      expect((await job('refused')).status.failed ?? 0, 'nothing counted').to.equal(0);
    } finally {
      await allow();
    }
    await phase('refused', 'Succeeded', 60_000);
    expect((await job('refused')).status.attempts).to.have.length(1);
  });

  describe('issue 11 follow-ups: expectations, driver names taken, a lost master', () => {
    /** Runs `fn` with the operator talking through a fault proxy (a stale cache, held writes); the usual one after. */
    const viaProxy = (fn: (proxy: FaultProxy) => Promise<void>) =>
      withOperatorThroughFaultProxy(s, ['--resync-period', '1m'], fn);
    const podsWatch = (r: SeenRequest) => r.watch && r.path.endsWith('/pods');

    it('starts no new driver while its delete of the old one is not in the cache (expectations)', async () => {
      await viaProxy(async (proxy) => {
        await sharedCluster('lagc');
        await s.ns.apply(
          jobManifest('lagging', {
            cluster: 'lagc',
            sim: { 'sim.gaffer.dev/image-pull-error': 'true' },
            // Long enough for the cache to be frozen before it passes, even on a loaded machine.
            extra: { backoffLimit: 5, startupDeadlineSeconds: 8, backoff: { initialSeconds: 1, maxSeconds: 1 } },
          }),
        );
        // The operator's cache has the driver (its uid is recorded) before the cache is frozen.
        await s.ns.until('computejob', 'lagging', 'driver seen', (j) => !!j.status?.attempts?.[0]?.podUID, 30_000, 100);
        proxy.fault = (r) => (podsWatch(r) ? { kind: 'hold' } : undefined);
        proxy.cutWhere(podsWatch);
        // The startup deadline ends attempt 0 and deletes its driver; the cache does not show the delete.
        const deleted = () => proxy.count((r) => r.method === 'DELETE' && r.path.endsWith('/pods/lagging-driver-0'));
        expect(deleted(), 'driver 0 deleted before the cache was frozen: the test proves nothing').to.equal(0);
        await waitFor('driver 0 deleted', async () => deleted() > 0, 30_000, 100);
        await s.ns.until('computejob', 'lagging', 'attempt 0 ended', (j) => !!j.status.attempts[0].finishTime);
        // Well past the 1 s backoff: a job planning from this cache would create driver 1 now.
        await sleep(5000);
        expect(await s.ns.exists('pod', 'lagging-driver-1'), 'driver 1 created before the delete was seen').to.equal(
          false,
        );
        expect(deleted(), 'deletes of driver 0').to.equal(1);
        proxy.fault = () => undefined;
        proxy.cutWhere(podsWatch);
        const j = await s.ns.until('computejob', 'lagging', 'attempt 1 started', (j) => j.status.attempts?.length >= 2);
        expect(j.status.attempts[1].podName).to.equal('lagging-driver-1');
        await waitFor('driver 1 created', () => s.ns.exists('pod', 'lagging-driver-1'), 30_000);
      });
      await s.ns.delete('computejob', 'lagging');
    });

    it('never adopts the driver of an earlier job of the same name (deleted with --cascade=orphan): PodConflict, not its result', async () => {
      await sharedCluster();
      await s.ns.apply(jobManifest('reborn', { sim: exits('1s', 0) }));
      await phase('reborn', 'Succeeded');
      await s.ns.delete('computejob', 'reborn', '--cascade=orphan');
      await waitFor('the job gone', async () => !(await s.ns.exists('computejob', 'reborn')), 30_000);
      await waitFor(
        'the old driver orphaned',
        async () => ((await s.ns.get('pod', 'reborn-driver-0')).metadata.ownerReferences ?? []).length === 0,
        60_000,
      );
      // The same name again, a new job: the old driver (Succeeded, another spec) is not its attempt.
      await s.ns.apply(jobManifest('reborn', { sim: exits('1s', 0), extra: { backoffLimit: 0 } }));
      const j = await s.ns.until(
        'computejob',
        'reborn',
        'PodConflict reported',
        (j) => cond(j, 'Ready')?.reason === 'PodConflict' || j.status?.phase === 'Succeeded',
        30_000,
      );
      expect(j.status.phase, 'the new job did not take the old driver as its own').to.not.equal('Succeeded');
      expect(cond(j, 'Ready').message).to.include('pod reborn-driver-0 exists');
      expect((await s.ns.get('pod', 'reborn-driver-0')).metadata.ownerReferences ?? []).to.deep.equal([]);
      await s.ns.delete('pod', 'reborn-driver-0', '--grace-period=0', '--force');
      // Its own driver once the old one is gone (the next try, after the backoff).
      await phase('reborn', 'Succeeded', 60_000).catch(async (e) => {
        const st = (await job('reborn')).status;
        const pods = (await s.ns.list('pods', 'compute.gaffer.dev/job=reborn')).map((p: any) => [
          p.metadata.name,
          p.metadata.uid,
          p.status?.phase,
        ]);
        const logs = s.op.logs.filter((l: any) => JSON.stringify(l).includes('reborn')).slice(-30);
        throw new Error(
          `${e.message}; status ${JSON.stringify(st)}; pods ${JSON.stringify(pods)}; logs ${JSON.stringify(logs)}`,
        );
      });
    });

    it("adopts an orphan pod with the driver's name and labels (this job's uid included), and reports any other as PodConflict", async () => {
      await sharedCluster();
      const labels = (job: string, jobUid: string) => ({
        'app.kubernetes.io/name': 'gaffer',
        'app.kubernetes.io/managed-by': 'gaffer',
        'compute.gaffer.dev/cluster': 'shared',
        'compute.gaffer.dev/role': 'driver',
        'compute.gaffer.dev/job': job,
        'compute.gaffer.dev/job-uid': jobUid,
        'compute.gaffer.dev/attempt': '0',
      });
      const pod = (name: string, l: Record<string, string>) => ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, labels: l },
        spec: { restartPolicy: 'Never', containers: [{ name: 'driver', image }] },
      });
      // An orphan made for this very job (its uid), created while the job is suspended, and a stranger's pod.
      await s.ns.apply(jobManifest('heir', { extra: { backoffLimit: 0, suspend: true } }));
      const heirUid = (await job('heir')).metadata.uid;
      await s.ns.apply(pod('heir-driver-0', labels('heir', heirUid)));
      await s.ns.apply(pod('squatter-driver-0', { app: 'someone-else' }));
      const orphanUid = (await s.ns.get('pod', 'heir-driver-0')).metadata.uid;
      await s.ns.patch('computejob', 'heir', { spec: { suspend: false } });
      await s.ns.apply(jobManifest('squatter', { extra: { backoffLimit: 0 } }));

      const heir = await s.ns.until('computejob', 'heir', 'driver adopted', (j) => !!j.status?.attempts?.[0]?.podUID);
      expect(heir.status.attempts[0].podUID).to.equal(orphanUid);
      const adopted = await s.ns.get('pod', 'heir-driver-0');
      expect(adopted.metadata.ownerReferences).to.deep.include({
        apiVersion: 'compute.gaffer.dev/v1alpha1',
        kind: 'ComputeJob',
        name: 'heir',
        uid: heir.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      });
      expect((await s.ns.events('PodAdopted', 'heir')).length).to.be.greaterThan(0);

      const conflicted = await s.ns.until(
        'computejob',
        'squatter',
        'PodConflict reported',
        (j) => cond(j, 'Ready')?.reason === 'PodConflict',
        30_000,
      );
      expect(cond(conflicted, 'Ready').message).to.include('pod squatter-driver-0 exists').and.include('delete it');
      expect(cond(conflicted, 'Reconciling')).to.include({ status: 'True', reason: 'PodConflict' });
      expect((await s.ns.events('PodConflict', 'squatter')).length).to.be.greaterThan(0);
      expect((await s.ns.get('pod', 'squatter-driver-0')).metadata.ownerReferences ?? []).to.deep.equal([]);
      // Once the stranger's pod goes, the job creates its own driver (its next try, after the backoff).
      await s.ns.delete('pod', 'squatter-driver-0', '--grace-period=0', '--force');
      await waitFor(
        'own driver running',
        async () => {
          const d = (await drivers('squatter')).find((p: any) => p.metadata.name === 'squatter-driver-0');
          return d?.metadata.ownerReferences?.[0]?.uid === conflicted.metadata.uid && d.status?.phase === 'Running';
        },
        60_000,
      );
      const j = await s.ns.until(
        'computejob',
        'squatter',
        'conflict cleared',
        (j) => cond(j, 'Ready')?.reason !== 'PodConflict',
      );
      expect(j.status.phase).to.equal('Running');
      await s.ns.delete('computejob', 'heir');
      await s.ns.delete('computejob', 'squatter');
    });

    it('does not put down to its master a driver that failed before the master was deleted, though the job learns of both at once', async () => {
      await runningOn('later-loss', 'ownfault');
      // No operator while both happen: the next one learns of the driver's end and the master's
      // deletion from one LIST, as after a failover.
      await s.op.stop();
      try {
        await s.ns.k(['annotate', 'pod', 'ownfault-driver-0', 'sim.gaffer.dev/fail-after=0s']);
        await waitFor(
          'the driver failed',
          async () => (await s.ns.get('pod', 'ownfault-driver-0')).status.phase === 'Failed',
        );
        await sleep(2500); // timestamps have one-second resolution
        // The master is deleted after that; it stays terminating (no kubelet to confirm) so its deletion time shows.
        await s.ns.k(['annotate', 'pod', 'later-loss-master', 'sim.gaffer.dev/kubelet-gone=true']);
        await s.ns.k(['delete', 'pod', 'later-loss-master', '--wait=false']);
      } finally {
        await s.startOperator();
      }
      const j = await phase('ownfault', 'Failed');
      expect(j.status.reason).to.equal('BackoffLimitExceeded');
      expect(j.status.attempts[0]).to.include({ reason: 'Error', counted: true, exitCode: 1 });
      await s.ns.delete('pod', 'later-loss-master', '--grace-period=0', '--force', '--ignore-not-found');
      await s.ns.delete('computejob', 'ownfault');
    });

    it("puts a driver's failure down to its master when the master failed first, before the cluster's status says so", async () => {
      await viaProxy(async (proxy) => {
        const oldMaster = await runningOn('frail', 'blameless');
        // The cluster's status stays as it is (its writes are held): it still names the old master.
        const statusWrite = (r: SeenRequest) => r.method === 'PUT' && r.path.endsWith('/computeclusters/frail/status');
        proxy.fault = (r) => (statusWrite(r) ? { kind: 'hold' } : undefined);
        // The master fails and its driver right after (exit code 1: a counted failure, and backoffLimit
        // is 0): the job may see either first, and neither may be put down to the driver.
        await s.ns.k(['annotate', 'pod', 'frail-master', 'blameless-driver-0', 'sim.gaffer.dev/fail-after=0s']);
        const j = await s.ns.until(
          'computejob',
          'blameless',
          'attempt 0 ended',
          (j) => !!j.status.attempts[0].finishTime,
        );
        expect(j.status.phase, `${j.status.reason}: ${j.status.message}`).to.not.equal('Failed');
        expect(j.status.attempts[0]).to.include({ reason: 'MasterRestarted', counted: false });
        expect(j.status.attempts[0].message).to.include(oldMaster);
        expect(j.status.failed).to.equal(0);
        expect((await cc('frail')).status.master.uid, "the cluster's status was held").to.equal(oldMaster);
        proxy.fault = () => undefined;
        proxy.cutWhere(statusWrite); // the held write fails, and is tried again
        const next = await s.ns.until(
          'computejob',
          'blameless',
          'attempt 1 running on the new master',
          (j) => j.status.attempts?.length === 2 && j.status.phase === 'Running',
          60_000,
        );
        expect(next.status.attempts[1].masterUID).to.not.equal(oldMaster);
      });
      await s.ns.delete('computejob', 'blameless');
    });
    it('deletes the driver of an ended attempt whose delete failed: it does not stay beside the next one (review #1)', async () => {
      await viaProxy(async (proxy) => {
        await sharedCluster();
        const delete0 = (r: SeenRequest) => r.method === 'DELETE' && r.path.endsWith('/pods/strayed-driver-0');
        let refused = false; // the first delete of driver 0 fails (a 5xx), after its attempt's end is written
        proxy.fault = (r) => {
          if (refused || !delete0(r)) return undefined;
          refused = true;
          return { kind: 'status', code: 500, reason: 'InternalError' };
        };
        const m = jobManifest('strayed', {
          extra: { backoffLimit: 20, startupDeadlineSeconds: 3, backoff: { initialSeconds: 1, maxSeconds: 1 } },
        });
        m.spec.template.spec.nodeSelector = { 'gaffer.dev/no-such-node': 'true' }; // Pending: Unschedulable
        await s.ns.apply(m);
        await waitFor('the delete of driver 0 refused', async () => refused, 30_000, 100);
        const ended = await s.ns.until(
          'computejob',
          'strayed',
          'attempt 0 ended',
          (j) => !!j.status?.attempts?.[0]?.finishTime,
        );
        expect(ended.status.attempts[0].reason).to.equal('Unschedulable');
        // Each further attempt lasts about 4 s (3 s startup deadline, 1 s backoff), 21 of them:
        // driver 0 must go long before the job ends (stopDrivers).
        const alive0 = async () => (await drivers('strayed')).some((p: any) => p.metadata.name === 'strayed-driver-0');
        await waitFor('driver 0 deleted after all', async () => !(await alive0()), 15_000, 200);
        expect(proxy.count(delete0), 'deletes of driver 0').to.be.at.least(2);
        expect((await job('strayed')).status.phase).to.be.oneOf(['Running', 'Retrying']);
      });
      await s.ns.delete('computejob', 'strayed');
    });

    it('creates a driver deleted before its job recorded it only once: the attempt ends PodDeleted (review #3)', async () => {
      await viaProxy(async (proxy) => {
        await sharedCluster('twc');
        // Creates of this job's drivers (by name: the operator also tends earlier tests' objects here).
        const creates = () =>
          proxy.count(
            (r) =>
              r.method === 'POST' &&
              r.path === `/api/v1/namespaces/${s.ns.name}/pods` &&
              !!r.name?.startsWith('twice-driver-'),
          );
        const statusWrite = (r: SeenRequest) => r.method === 'PUT' && r.path.endsWith('/computejobs/twice/status');
        // The operator's pod cache is frozen: it will not see driver 0 before it is gone.
        proxy.fault = (r) => (podsWatch(r) ? { kind: 'hold' } : undefined);
        proxy.cutWhere(podsWatch);
        await s.ns.apply(jobManifest('twice', { cluster: 'twc', extra: { backoffLimit: 0 } }));
        await waitFor('driver 0 created', () => s.ns.exists('pod', 'twice-driver-0'), 30_000, 100);
        await s.ns.delete('pod', 'twice-driver-0', '--grace-period=0', '--force');
        // The cache resumes with driver 0 added and deleted. A reconcile that sees it in between
        // cannot record its podUID (the job's status writes are held, then fail): either way the
        // next reconcile finds neither the pod nor its podUID.
        proxy.fault = (r) => (statusWrite(r) ? { kind: 'hold' } : undefined);
        proxy.cutWhere(podsWatch);
        await sleep(3000);
        proxy.fault = () => undefined;
        proxy.cutWhere(statusWrite);
        await s.ns.until(
          'computejob',
          'twice',
          'attempt 0 ended, or driver 0 created again',
          (j) => !!j.status?.attempts?.[0]?.finishTime || creates() > 1,
          30_000,
          100,
        );
        await sleep(1000);
        expect(creates(), 'driver creates').to.equal(1);
        const j = await job('twice');
        expect(j.status.attempts).to.have.length(1);
        expect(j.status.attempts[0]).to.include({ reason: 'PodDeleted', podName: 'twice-driver-0' });
        expect(await s.ns.exists('pod', 'twice-driver-0'), 'driver 0 created again').to.equal(false);
      });
      await s.ns.delete('computejob', 'twice');
    });

    it('moves an attempt whose driver create was refused past a master change to the new master: the driver survives (review #5)', async () => {
      await sharedCluster('mvc');
      const allow = await refuseDriversOf('moved');
      let newMaster: string;
      try {
        await s.ns.apply(jobManifest('moved', { cluster: 'mvc', extra: { backoffLimit: 0 } }));
        const refused = await waitFor('FailedCreate on Ready', async () => {
          const j = await job('moved');
          return cond(j, 'Ready')?.reason === 'FailedCreate' && j;
        });
        const oldMaster = refused.status.attempts[0].masterUID;
        await s.ns.delete('pod', 'mvc-master');
        newMaster = await waitFor(
          'a new master, Ready',
          async () => {
            const c = await cc('mvc');
            const uid = c.status?.master?.uid;
            return uid && uid !== oldMaster && cond(c, 'Ready')?.status === 'True' && uid;
          },
          60_000,
        );
      } finally {
        await allow();
      }
      await driverRunning('moved', 60_000);
      await sleep(3000); // a driver judged against the old master would be deleted (MasterRestarted) by now
      const j = await job('moved');
      expect(j.status.attempts, JSON.stringify(j.status.attempts)).to.have.length(1);
      expect(j.status.attempts[0].finishTime).to.equal(undefined);
      expect(j.status.attempts[0].masterUID).to.equal(newMaster);
      const pods = await s.ns.list('pods', 'compute.gaffer.dev/job=moved');
      expect(pods.map((p: any) => p.metadata.name)).to.deep.equal(['moved-driver-0']);
      await s.ns.delete('computejob', 'moved');
    });
  });
});

// The Kueue integration against a real Kueue (hack/kueue.ts: v0.17.0 built from its Go module,
// its webhooks on loopback): queued ComputeJobs wait for admission within a ClusterQueue's quota,
// are preempted by higher-priority jobs without a counted failure, and run their pods where the
// flavors Kueue assigned each pod set say.
import { expect } from 'chai';
import { startKueue, type RunningKueue } from '../../hack/kueue.ts';
import { apply, cond, k, setup, waitFor } from './harness.ts';

const image = 'registry.invalid/compute:1';
const POOL = 'gaffer-test/pool';
const GPU_TAINT = 'gaffer-test/gpu';
/** Names of the cluster-scoped Kueue objects the suite makes (removed after). */
const CQ = { small: 'gaffer-test-small', flavors: 'gaffer-test-flavors' };
const RF = { general: 'gaffer-test-general', gpu: 'gaffer-test-gpu' };
const WPC = { low: 'gaffer-test-low', high: 'gaffer-test-high' };
const NODES = { 'kwok-node-0': 'general', 'kwok-node-1': 'general', 'kwok-node-2': 'gpu' };

const kueueObjects = (ns: string) => [
  {
    apiVersion: 'kueue.x-k8s.io/v1beta2',
    kind: 'ResourceFlavor',
    metadata: { name: RF.general },
    spec: { nodeLabels: { [POOL]: 'general' } },
  },
  {
    apiVersion: 'kueue.x-k8s.io/v1beta2',
    kind: 'ResourceFlavor',
    metadata: { name: RF.gpu },
    spec: {
      nodeLabels: { [POOL]: 'gpu' },
      tolerations: [{ key: GPU_TAINT, operator: 'Exists', effect: 'NoSchedule' }],
    },
  },
  // Room for one 3-CPU driver at a time; a higher priority preempts a lower one.
  clusterQueue(CQ.small, [flavor(RF.general, '4')], { withinClusterQueue: 'LowerPriority' }),
  clusterQueue(CQ.flavors, [flavor(RF.general, '10'), flavor(RF.gpu, '10')]),
  localQueue(ns, 'small', CQ.small),
  localQueue(ns, 'flavors', CQ.flavors),
  { apiVersion: 'kueue.x-k8s.io/v1beta2', kind: 'WorkloadPriorityClass', metadata: { name: WPC.low }, value: 100 },
  { apiVersion: 'kueue.x-k8s.io/v1beta2', kind: 'WorkloadPriorityClass', metadata: { name: WPC.high }, value: 1000 },
];

function flavor(name: string, cpu: string) {
  return { name, resources: [{ name: 'cpu', nominalQuota: cpu }] };
}
function clusterQueue(name: string, flavors: object[], preemption?: object) {
  return {
    apiVersion: 'kueue.x-k8s.io/v1beta2',
    kind: 'ClusterQueue',
    metadata: { name },
    spec: {
      namespaceSelector: {},
      resourceGroups: [{ coveredResources: ['cpu'], flavors }],
      ...(preemption ? { preemption } : {}),
    },
  };
}
function localQueue(namespace: string, name: string, clusterQueue: string) {
  return {
    apiVersion: 'kueue.x-k8s.io/v1beta2',
    kind: 'LocalQueue',
    metadata: { name, namespace },
    spec: { clusterQueue },
  };
}

const container = (name: string, cpu: string, ports?: object[]) => ({
  name,
  image,
  resources: { requests: { cpu } },
  ...(ports ? { ports } : {}),
});

/** A job on the shared cluster whose driver asks `cpu` and exits 0 after `after`. */
function queuedJob(name: string, o: { queue: string; cpu: string; after: string; priority?: string }) {
  return {
    apiVersion: 'compute.gaffer.dev/v1alpha1',
    kind: 'ComputeJob',
    metadata: {
      name,
      labels: {
        'kueue.x-k8s.io/queue-name': o.queue,
        ...(o.priority ? { 'kueue.x-k8s.io/priority-class': o.priority } : {}),
      },
    },
    spec: {
      clusterRef: { name: 'shared' },
      backoffLimit: 0,
      backoff: { initialSeconds: 1, maxSeconds: 2 },
      template: {
        metadata: { annotations: { 'sim.gaffer.dev/complete-after': o.after } },
        spec: { restartPolicy: 'Never', containers: [container('driver', o.cpu)] },
      },
    },
  };
}

describe('Kueue integration (a real Kueue)', function () {
  this.timeout(300_000);
  let kueue: RunningKueue | undefined;
  const s = setup('kq', {
    operator: ['--kueue', '--resync-period', '1m'],
    beforeOperator: async (ns) => {
      kueue = await startKueue();
      for (const [node, pool] of Object.entries(NODES))
        await k(['label', 'node', node, `${POOL}=${pool}`, '--overwrite']);
      await apply(kueueObjects(ns.name));
    },
  });
  after(async () => {
    // After setup's own after: the operator is stopped and the namespace (its LocalQueues) deleted.
    await k(['delete', '--ignore-not-found', 'clusterqueue', ...Object.values(CQ)]).catch(() => undefined);
    await k(['delete', '--ignore-not-found', 'resourceflavor', ...Object.values(RF)]).catch(() => undefined);
    await k(['delete', '--ignore-not-found', 'workloadpriorityclass', ...Object.values(WPC)]).catch(() => undefined);
    for (const node of Object.keys(NODES)) await k(['label', 'node', node, `${POOL}-`]).catch(() => undefined);
    await kueue?.stop();
  });

  const job = (name: string) => s.ns.get('computejob', name);
  const phase = (name: string, p: string, timeout = 90_000) =>
    s.ns.until('computejob', name, p, (j) => j.status?.phase === p, timeout, 200);
  const workloadOf = async (name: string, owner: 'job' | 'cluster' = 'job') => {
    const [w] = await s.ns.list('workloads.kueue.x-k8s.io', `compute.gaffer.dev/${owner}=${name}`);
    return w;
  };
  const drivers = async (name: string) =>
    (await s.ns.list('pods', `compute.gaffer.dev/job=${name}`)).filter((p: any) => !p.metadata.deletionTimestamp);

  before(async () => {
    await s.ns.apply({
      apiVersion: 'compute.gaffer.dev/v1alpha1',
      kind: 'ComputeCluster',
      metadata: { name: 'shared' },
      spec: {
        master: { template: { spec: { containers: [container('master', '100m', [{ containerPort: 7077 }])] } } },
        workers: { replicas: 1, template: { spec: { containers: [container('worker', '100m')] } } },
      },
    });
    await waitFor(
      'shared Ready',
      async () => cond(await s.ns.get('computecluster', 'shared'), 'Ready')?.status === 'True',
    );
  });

  it("runs one of two jobs that together exceed the quota; the other waits Queued with Kueue's message, then runs", async () => {
    await s.ns.apply(queuedJob('first', { queue: 'small', cpu: '3', after: '10s' }));
    await phase('first', 'Running');
    await s.ns.apply(queuedJob('second', { queue: 'small', cpu: '3', after: '1s' }));
    const waiting = await s.ns.until('computejob', 'second', 'Queued with a message', (j) =>
      /insufficient/.test(cond(j, 'Queued')?.message ?? ''),
    );
    expect(waiting.status.phase).to.equal('Queued');
    expect(cond(waiting, 'Queued').status).to.equal('True');
    expect(cond(waiting, 'Queued').message).to.match(/LocalQueue small: .*insufficient unused quota for cpu/);
    expect(cond(waiting, 'Ready').reason).to.equal('Queued');
    expect(await drivers('second')).to.have.length(0);
    // kubectl shows why: the Phase column, and the Queued column with -o wide; an event says it too.
    const wide = await s.ns.k(['get', 'computejob', 'second', '-o', 'wide']);
    expect(wide)
      .to.match(/Queued/)
      .and.to.match(/insufficient unused quota/);
    expect((await s.ns.events('Queued', 'second')).map((e: any) => e.note ?? e.message).join('\n')).to.match(
      /insufficient/,
    );

    // Nothing ran before Kueue admitted it: its driver was made after the Workload's admission.
    const admittedAt = Date.parse(cond(await workloadOf('first'), 'Admitted').lastTransitionTime);
    const firstDriver = await s.ns.get('pod', 'first-driver-0');
    expect(Date.parse(firstDriver.metadata.creationTimestamp)).to.be.at.least(admittedAt);
    const first = await phase('first', 'Succeeded');
    expect(cond(first, 'Queued')).to.include({ status: 'False', reason: 'Admitted' });
    // Marked finished, its quota is free: the second job is admitted and runs to the end.
    await waitFor(
      'first Workload Finished',
      async () => cond(await workloadOf('first'), 'Finished')?.status === 'True',
    );
    expect(cond(await workloadOf('first'), 'Finished').reason).to.equal('Succeeded');
    const second = await phase('second', 'Succeeded');
    expect(second.status.attemptCount).to.equal(1);
    expect(Date.parse(second.status.attempts[0].startTime)).to.be.at.least(Date.parse(first.status.completionTime));
  });

  it('lets a higher-priority job preempt a running lower one, which resumes later and succeeds with no failure counted', async () => {
    await s.ns.apply(queuedJob('low', { queue: 'small', cpu: '3', after: '15s', priority: WPC.low }));
    await phase('low', 'Running');
    await waitFor('low driver running', async () => (await drivers('low'))[0]?.status?.phase === 'Running');
    await s.ns.apply(queuedJob('high', { queue: 'small', cpu: '3', after: '2s', priority: WPC.high }));

    const preempted = await s.ns.until('computejob', 'low', 'preempted', (j) => j.status?.attempts?.[0]?.finishTime);
    expect(preempted.status.attempts[0]).to.include({ reason: 'Preempted', counted: false });
    expect(preempted.status.phase).to.equal('Queued');
    await phase('high', 'Succeeded');

    const low = await phase('low', 'Succeeded');
    expect(low.status.failed ?? 0).to.equal(0);
    expect(low.status.attemptCount).to.equal(2);
    expect(low.status.attempts.map((a: any) => a.reason)).to.deep.equal(['Preempted', 'Succeeded']);
    const w = await workloadOf('low');
    expect(w.spec.priority).to.equal(100);
    expect(w.spec.priorityClassRef).to.deep.include({ kind: 'WorkloadPriorityClass', name: WPC.low });
    expect(cond(w, 'Finished')?.status).to.equal('True');
  });

  it("puts each pod set's flavor on its pods: the gpu group on the gpu nodes, the rest on general", async () => {
    await s.ns.apply({
      apiVersion: 'compute.gaffer.dev/v1alpha1',
      kind: 'ComputeJob',
      metadata: { name: 'grouped', labels: { 'kueue.x-k8s.io/queue-name': 'flavors' } },
      spec: {
        clusterTemplate: {
          spec: {
            master: { template: { spec: { containers: [container('master', '1', [{ containerPort: 7077 }])] } } },
            workers: { replicas: 2, template: { spec: { containers: [container('worker', '1')] } } },
            workerGroups: [
              {
                name: 'gpu',
                replicas: 1,
                template: { spec: { nodeSelector: { [POOL]: 'gpu' }, containers: [container('worker', '2')] } },
              },
            ],
          },
        },
        template: {
          metadata: { annotations: { 'sim.gaffer.dev/complete-after': '5s' } },
          spec: { restartPolicy: 'Never', containers: [container('driver', '1')] },
        },
      },
    });
    await phase('grouped', 'Running');
    const w = await workloadOf('grouped');
    expect(w.spec.podSets.map((p: any) => [p.name, p.count])).to.deep.equal([
      ['master', 1],
      ['worker', 2],
      ['gpu', 1],
      ['driver', 1],
    ]);
    const flavors = Object.fromEntries(w.status.admission.podSetAssignments.map((a: any) => [a.name, a.flavors.cpu]));
    expect(flavors).to.deep.equal({ master: RF.general, worker: RF.general, gpu: RF.gpu, driver: RF.general });

    const pods = (await s.ns.list('pods')).filter(
      (p: any) => p.metadata.labels['compute.gaffer.dev/cluster'] === 'grouped' && !p.metadata.deletionTimestamp,
    );
    const where = Object.fromEntries(pods.map((p: any) => [p.metadata.name, p.spec.nodeSelector?.[POOL]]));
    expect(where).to.deep.equal({
      'grouped-master': 'general',
      'grouped-worker-0': 'general',
      'grouped-worker-1': 'general',
      'grouped-gpu-0': 'gpu',
      'grouped-driver-0': 'general',
    });
    const gpu = pods.find((p: any) => p.metadata.name === 'grouped-gpu-0');
    expect(gpu.spec.tolerations).to.deep.include({ key: GPU_TAINT, operator: 'Exists', effect: 'NoSchedule' });
    // Placed where the flavors say: every pod bound to a node of its pool.
    for (const p of pods) {
      const node = JSON.parse(await k(['get', 'node', p.spec.nodeName, '-o', 'json']));
      expect(node.metadata.labels[POOL], p.metadata.name).to.equal(where[p.metadata.name]);
    }
    // The job's spec is untouched: the placement lives on the pods (and the ephemeral cluster) only.
    expect((await job('grouped')).spec.clusterTemplate.spec.workers.template.spec.nodeSelector).to.equal(undefined);
    await phase('grouped', 'Succeeded');
    await waitFor('Workload Finished', async () => cond(await workloadOf('grouped'), 'Finished')?.status === 'True');
  });

  it('queues a ComputeCluster: no pods until admitted, then placed; a second waits; a scale past the admission is held', async () => {
    const queuedCluster = (name: string) => ({
      apiVersion: 'compute.gaffer.dev/v1alpha1',
      kind: 'ComputeCluster',
      metadata: { name, labels: { 'kueue.x-k8s.io/queue-name': 'small' } },
      spec: {
        master: { template: { spec: { containers: [container('master', '1', [{ containerPort: 7077 }])] } } },
        workers: { replicas: 2, template: { spec: { containers: [container('worker', '1')] } } },
      },
    });
    const clusterPods = async (name: string) =>
      (await s.ns.list('pods', `compute.gaffer.dev/cluster=${name}`)).filter((p: any) => !p.metadata.deletionTimestamp);
    await s.ns.apply(queuedCluster('qa'));
    await waitFor('qa Ready', async () => cond(await s.ns.get('computecluster', 'qa'), 'Ready')?.status === 'True');
    const wa = await workloadOf('qa', 'cluster');
    expect(wa.spec.podSets.map((p: any) => [p.name, p.count])).to.deep.equal([
      ['master', 1],
      ['worker', 2],
    ]);
    expect((await clusterPods('qa')).map((p: any) => p.spec.nodeSelector?.[POOL])).to.deep.equal([
      'general',
      'general',
      'general',
    ]);

    // 3 of the 4 CPUs are taken: the second cluster waits, with no pod, and says why.
    await s.ns.apply(queuedCluster('qb'));
    const qb = await s.ns.until('computecluster', 'qb', 'Queued', (c) =>
      /insufficient/.test(cond(c, 'Queued')?.message ?? ''),
    );
    expect(qb.status.phase).to.equal('Queued');
    expect(cond(qb, 'Ready')).to.include({ status: 'False', reason: 'Queued' });
    expect(cond(qb, 'Suspended')?.status).to.equal('False');
    expect(await clusterPods('qb')).to.have.length(0);

    // Scaled past what Kueue admitted: held at the admitted count, and said so.
    await s.ns.scale('computecluster', 'qa', 3);
    const held = await s.ns.until('computecluster', 'qa', 'held', (c) =>
      /held at the admitted count/.test(cond(c, 'Queued')?.message ?? ''),
    );
    expect(cond(held, 'Queued').status).to.equal('False');
    expect(held.status.workers.desiredReplicas).to.equal(2);
    expect((await clusterPods('qa')).map((p: any) => p.metadata.name).sort()).to.deep.equal([
      'qa-master',
      'qa-worker-0',
      'qa-worker-1',
    ]);

    // The first cluster goes: its Workload with it (owner reference), and the second is admitted and runs.
    await s.ns.delete('computecluster', 'qa');
    await waitFor(
      'qb Ready',
      async () => cond(await s.ns.get('computecluster', 'qb'), 'Ready')?.status === 'True',
      90_000,
    );
    expect(cond(await s.ns.get('computecluster', 'qb'), 'Queued')).to.include({ status: 'False', reason: 'Admitted' });
    expect(await clusterPods('qb')).to.have.length(3);
    await s.ns.delete('computecluster', 'qb');
    await waitFor('qb Workload gone', async () => !(await workloadOf('qb', 'cluster')));
  });

  it("releases a preempted ephemeral job's quota though an earlier attempt's driver is kept, failed: the preemptor runs", async () => {
    // Review finding: exited drivers carry the cluster's label; counted as running, they held the quota forever.
    await s.ns.apply({
      apiVersion: 'compute.gaffer.dev/v1alpha1',
      kind: 'ComputeJob',
      metadata: {
        name: 'eph',
        labels: { 'kueue.x-k8s.io/queue-name': 'small', 'kueue.x-k8s.io/priority-class': WPC.low },
      },
      spec: {
        backoffLimit: 3,
        backoff: { initialSeconds: 1, maxSeconds: 1 },
        clusterTemplate: {
          spec: {
            master: { template: { spec: { containers: [container('master', '1', [{ containerPort: 7077 }])] } } },
            workers: { replicas: 1, template: { spec: { containers: [container('worker', '1')] } } },
          },
        },
        template: { spec: { restartPolicy: 'Never', containers: [container('driver', '1')] } },
      },
    });
    await phase('eph', 'Running');
    await waitFor('eph driver 0 running', async () => (await drivers('eph'))[0]?.status?.phase === 'Running');
    // Attempt 0 fails (its driver is kept, Failed, for its logs); attempt 1 runs.
    await s.ns.annotate('pod', 'eph-driver-0', { 'sim.gaffer.dev/fail-after': '1s' });
    await s.ns.until(
      'computejob',
      'eph',
      'attempt 1 running',
      (j) => j.status?.attemptCount === 2 && j.status.phase === 'Running',
    );
    await s.ns.apply(queuedJob('urgent', { queue: 'small', cpu: '3', after: '2s', priority: WPC.high }));
    await phase('urgent', 'Succeeded', 60_000);
    const eph = await s.ns.until(
      'computejob',
      'eph',
      'attempt 2 running',
      (j) => j.status?.attemptCount === 3 && j.status.phase === 'Running',
      90_000,
    );
    // The driver's own failure counted (its container's reason), the preemption not.
    expect(eph.status.attempts.map((a: any) => a.counted)).to.deep.equal([true, false, undefined]);
    expect(eph.status.attempts[1].reason).to.equal('Preempted');
    expect(eph.status.failed).to.equal(1);
    await waitFor('eph driver 2 running', async () =>
      (await drivers('eph')).some((p: any) => p.metadata.name === 'eph-driver-2' && p.status?.phase === 'Running'),
    );
    await s.ns.annotate('pod', 'eph-driver-2', { 'sim.gaffer.dev/complete-after': '1s' });
    await phase('eph', 'Succeeded');
  });

  it('asks no quota for a suspended queued job: its Workload goes, and a new one is made on resume', async () => {
    await s.ns.apply(queuedJob('pause', { queue: 'small', cpu: '3', after: '300s' }));
    await phase('pause', 'Running');
    const before = await workloadOf('pause');
    await s.ns.patch('computejob', 'pause', { spec: { suspend: true } });
    const suspended = await phase('pause', 'Suspended');
    expect(cond(suspended, 'Queued')).to.include({ status: 'False', reason: 'Suspended' });
    await waitFor('Workload deleted', async () => (await workloadOf('pause'))?.metadata.uid !== before.metadata.uid);
    // The quota it held is free: another job runs meanwhile.
    await s.ns.apply(queuedJob('meanwhile', { queue: 'small', cpu: '3', after: '1s' }));
    await phase('meanwhile', 'Succeeded');
    await s.ns.patch('computejob', 'pause', { spec: { suspend: false } });
    await phase('pause', 'Running');
    const after = await workloadOf('pause');
    expect(after.metadata.uid).not.to.equal(before.metadata.uid);
    expect(cond(after, 'Admitted')?.status).to.equal('True');
    await s.ns.delete('computejob', 'pause');
  });

  /** A cluster in queue `small` (a 1-CPU master and `workers` 1-CPU workers), with a priority class. */
  const smallCluster = (name: string, workers: number, labels: Record<string, string> = {}) => ({
    apiVersion: 'compute.gaffer.dev/v1alpha1',
    kind: 'ComputeCluster',
    metadata: { name, labels },
    spec: {
      master: { template: { spec: { containers: [container('master', '1', [{ containerPort: 7077 }])] } } },
      workers: { replicas: workers, template: { spec: { containers: [container('worker', '1')] } } },
    },
  });
  const uidsOf = async (name: string) =>
    (await s.ns.list('pods', `compute.gaffer.dev/cluster=${name},compute.gaffer.dev/role!=driver`))
      .filter((p: any) => !p.metadata.deletionTimestamp)
      .map((p: any) => p.metadata.uid)
      .sort();
  const clusterReady = (name: string, timeout = 90_000) =>
    waitFor(
      `${name} Ready`,
      async () => cond(await s.ns.get('computecluster', name), 'Ready')?.status === 'True',
      timeout,
    );

  it("releases a preempted cluster's quota though a job's finished driver on it is kept; an edited flavor moves no running pod", async () => {
    const queued = { 'kueue.x-k8s.io/queue-name': 'small', 'kueue.x-k8s.io/priority-class': WPC.low };
    await s.ns.apply(smallCluster('qc', 2, queued));
    await clusterReady('qc');
    // A job (not queued) on it finishes: its driver, kept for its logs, carries the cluster's label.
    const onQc = queuedJob('on-qc', { queue: 'small', cpu: '100m', after: '1s' });
    delete (onQc.metadata.labels as any)['kueue.x-k8s.io/queue-name'];
    onQc.spec.clusterRef.name = 'qc';
    await s.ns.apply(onQc);
    await phase('on-qc', 'Succeeded');
    // An edited flavor changes where new pods go, not the running ones.
    const before = await uidsOf('qc');
    await s.ns.k([
      'patch',
      'resourceflavor',
      RF.general,
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { tolerations: [{ key: 'edited', operator: 'Exists' }] } }),
    ]);
    await new Promise((r) => setTimeout(r, 4000));
    expect(await uidsOf('qc')).to.deep.equal(before);
    // Preempted by a higher priority: its pods go, its quota is released, the preemptor runs.
    await s.ns.apply(queuedJob('over-qc', { queue: 'small', cpu: '3', after: '2s', priority: WPC.high }));
    await phase('over-qc', 'Succeeded', 60_000);
    // Then it is admitted again and runs, its new pods placed with the flavor as it is now.
    await clusterReady('qc');
    const pods = (await s.ns.list('pods', 'compute.gaffer.dev/cluster=qc,compute.gaffer.dev/role!=driver')).filter(
      (p: any) => !p.metadata.deletionTimestamp,
    );
    expect(pods.every((p: any) => (p.spec.tolerations ?? []).some((t: any) => t.key === 'edited'))).to.equal(true);
    await s.ns.k([
      'patch',
      'resourceflavor',
      RF.general,
      '--type=json',
      '-p',
      '[{"op":"remove","path":"/spec/tolerations"}]',
    ]);
    await s.ns.delete('computecluster', 'qc');
  });

  it('leaves a running cluster labelled with a queue running (RunningUnqueued) until it is suspended and resumed', async () => {
    await s.ns.apply(smallCluster('plain', 1));
    await clusterReady('plain');
    const before = await uidsOf('plain');
    await s.ns.k(['label', 'computecluster', 'plain', 'kueue.x-k8s.io/queue-name=small']);
    const unqueued = await s.ns.until(
      'computecluster',
      'plain',
      'RunningUnqueued',
      (c) => cond(c, 'Queued')?.reason === 'RunningUnqueued',
    );
    expect(cond(unqueued, 'Queued').status).to.equal('False');
    expect(cond(unqueued, 'Ready').status).to.equal('True');
    expect(await uidsOf('plain')).to.deep.equal(before);
    expect(await workloadOf('plain', 'cluster')).to.equal(undefined);
    // Suspended and resumed: queued now, admitted, running on its flavor.
    await s.ns.patch('computecluster', 'plain', { spec: { suspend: true } });
    await waitFor('plain suspended, no pods', async () => (await uidsOf('plain')).length === 0);
    await s.ns.patch('computecluster', 'plain', { spec: { suspend: false } });
    await clusterReady('plain');
    expect(cond(await s.ns.get('computecluster', 'plain'), 'Queued')).to.include({
      status: 'False',
      reason: 'Admitted',
    });
    expect(cond(await workloadOf('plain', 'cluster'), 'Admitted')?.status).to.equal('True');
    await s.ns.delete('computecluster', 'plain');
  });

  it('holds a job resumed while its old driver still terminates to its queue: no driver runs unqueued', async () => {
    await s.ns.apply(queuedJob('quick', { queue: 'small', cpu: '1', after: '300s' }));
    await phase('quick', 'Running');
    await waitFor('quick driver running', async () => (await drivers('quick'))[0]?.status?.phase === 'Running');
    const wl = await workloadOf('quick');
    // A finalizer keeps the old driver terminating, as a long grace period would.
    await s.ns.patch('pod', 'quick-driver-0', { metadata: { finalizers: ['gaffer.dev/test-hold'] } });
    try {
      await s.ns.patch('computejob', 'quick', { spec: { suspend: true } });
      const suspended = await phase('quick', 'Suspended');
      expect(cond(suspended, 'Queued')).to.include({ status: 'False', reason: 'Suspended' });
      await s.ns.patch('computejob', 'quick', { spec: { suspend: false } });
      await phase('quick', 'Running');
      await new Promise((r) => setTimeout(r, 2000));
      const resumed = await job('quick');
      // Still held to its queue: running on the Workload admitted before (its pods not gone, it was kept).
      expect(cond(resumed, 'Queued')).to.include({ status: 'False', reason: 'Admitted' });
      expect((await workloadOf('quick')).metadata.uid).to.equal(wl.metadata.uid);
    } finally {
      await s.ns.patch('pod', 'quick-driver-0', { metadata: { finalizers: null } });
    }
    await s.ns.delete('computejob', 'quick');
  });
});

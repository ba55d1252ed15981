// The ComputeCluster controller on the real control plane, with KWOK making pods fail,
// crash-loop or sit on a NotReady node (hack/README.md).
import { expect } from 'chai';
import { stringify } from 'yaml';
import { deleteNamespace, ensureCluster, k, kjson, kubectl, testNamespace, waitFor } from './cluster.ts';
import { OperatorProcess } from './operator-process.ts';

const image = 'registry.invalid/compute:1';

function clusterManifest(
  name: string,
  o: {
    replicas?: number;
    min?: number;
    max?: number;
    workerEnv?: Record<string, string>;
    workerAnnotations?: Record<string, string>;
    masterAnnotations?: Record<string, string>;
    recovery?: any;
    failurePolicy?: any;
    updateStrategy?: any;
    suspend?: boolean;
    secure?: boolean;
  } = {},
): any {
  const sec = o.secure
    ? {
        securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
      }
    : {};
  const csec = o.secure
    ? { securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }
    : {};
  return {
    apiVersion: 'compute.gaffer.dev/v1alpha1',
    kind: 'ComputeCluster',
    metadata: { name },
    spec: {
      ...(o.suspend !== undefined ? { suspend: o.suspend } : {}),
      master: {
        ...(o.failurePolicy ? { failurePolicy: o.failurePolicy } : {}),
        template: {
          metadata: { annotations: o.masterAnnotations ?? {} },
          spec: {
            ...sec,
            containers: [
              {
                name: 'master',
                image,
                ports: [{ name: 'rpc', containerPort: 7077 }],
                env: [{ name: 'GAFFER_ROLE', value: 'user-set' }],
                ...csec,
              },
            ],
          },
        },
      },
      workers: {
        ...(o.replicas !== undefined ? { replicas: o.replicas } : {}),
        ...(o.min !== undefined ? { minReplicas: o.min } : {}),
        ...(o.max !== undefined ? { maxReplicas: o.max } : {}),
        ...(o.updateStrategy ? { updateStrategy: o.updateStrategy } : {}),
        template: {
          metadata: { labels: { team: 'data' }, annotations: o.workerAnnotations ?? {} },
          spec: {
            ...sec,
            containers: [
              {
                name: 'worker',
                image,
                env: Object.entries(o.workerEnv ?? {}).map(([n, v]) => ({ name: n, value: v })),
                ...csec,
              },
            ],
          },
        },
      },
      podRecovery: {
        backoff: { initialSeconds: 2, maxSeconds: 30 },
        resetAfterSeconds: 600,
        nodeLossSeconds: 5,
        ...(o.recovery ?? {}),
      },
    },
  };
}

describe('ComputeCluster controller', function () {
  this.timeout(240_000);
  let ns: string;
  let op: OperatorProcess;
  const startOperator = async () => {
    op = new OperatorProcess(['--leader-elect=false', '--namespaces', ns, '--resync-period', '1m']);
    await op.started();
  };

  before(async () => {
    await ensureCluster();
    ns = await testNamespace('cc');
    await startOperator();
  });
  after(async () => {
    await op?.stop();
    if (ns) await deleteNamespace(ns);
  });

  const apply = (obj: any) => k(['apply', '-n', ns, '--server-side', '-f', '-'], stringify(obj));
  const cc = (name: string) => kjson(['get', '-n', ns, 'computecluster', name]);
  const pods = async (cluster: string, role?: string) =>
    (
      await kjson([
        'get',
        'pods',
        '-n',
        ns,
        '-l',
        `compute.gaffer.dev/cluster=${cluster}${role ? `,compute.gaffer.dev/role=${role}` : ''}`,
      ])
    ).items as any[];
  const live = (ps: any[]) => ps.filter((p) => !p.metadata.deletionTimestamp);
  const names = (ps: any[]) =>
    live(ps)
      .map((p) => p.metadata.name)
      .sort();
  const cond = (c: any, type: string) => c.status?.conditions?.find((x: any) => x.type === type);
  const ready = (name: string, timeout = 60_000) =>
    waitFor(
      `${name} Ready`,
      async () => {
        const c = await cc(name);
        return cond(c, 'Ready')?.status === 'True' && c.status.observedGeneration === c.metadata.generation && c;
      },
      timeout,
    );
  const events = async (reason: string) =>
    (await kjson(['get', 'events.events.k8s.io', '-n', ns])).items.filter((e: any) => e.reason === reason);

  it('creates the master, its Service, indexed workers and the headless Service, wired as api.md says', async () => {
    await apply(clusterManifest('alpha', { replicas: 3 }));
    const c = await ready('alpha');
    expect(names(await pods('alpha', 'worker'))).to.deep.equal(['alpha-worker-0', 'alpha-worker-1', 'alpha-worker-2']);
    const [master] = await pods('alpha', 'master');
    expect(master.metadata.name).to.equal('alpha-master');
    for (const p of [master, ...(await pods('alpha', 'worker'))]) {
      expect(p.metadata.labels).to.include({
        'app.kubernetes.io/name': 'gaffer',
        'app.kubernetes.io/managed-by': 'gaffer',
        'compute.gaffer.dev/cluster': 'alpha',
      });
      expect(p.metadata.labels['compute.gaffer.dev/revision']).to.match(/^[0-9a-f]{10}$/);
      expect(p.metadata.ownerReferences).to.deep.equal([
        {
          apiVersion: 'compute.gaffer.dev/v1alpha1',
          kind: 'ComputeCluster',
          name: 'alpha',
          uid: c.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
    }
    const env = (p: any) => Object.fromEntries(p.spec.containers[0].env.map((e: any) => [e.name, e.value]));
    expect(env(master)).to.deep.include({
      GAFFER_CLUSTER: 'alpha',
      GAFFER_NAMESPACE: ns,
      GAFFER_ROLE: 'user-set',
      GAFFER_MASTER_HOST: `alpha-master.${ns}.svc`,
      GAFFER_MASTER_PORT: '7077',
      GAFFER_MASTER_ADDR: `alpha-master.${ns}.svc:7077`,
    });
    const w1 = (await pods('alpha', 'worker')).find((p) => p.metadata.name === 'alpha-worker-1');
    expect(env(w1)).to.deep.include({ GAFFER_ROLE: 'worker', GAFFER_WORKER_INDEX: '1', GAFFER_WORKERS: '3' });
    expect(w1.metadata.labels).to.include({
      'compute.gaffer.dev/role': 'worker',
      'compute.gaffer.dev/worker-index': '1',
      team: 'data',
    });
    expect(w1.spec).to.include({ hostname: 'alpha-worker-1', subdomain: 'alpha-workers' });
    const svc = await kjson(['get', 'svc', '-n', ns, 'alpha-master']);
    expect(svc.spec.selector).to.deep.equal({
      'compute.gaffer.dev/cluster': 'alpha',
      'compute.gaffer.dev/role': 'master',
    });
    expect(svc.spec.ports.map((p: any) => p.port)).to.deep.equal([7077]);
    const headless = await kjson(['get', 'svc', '-n', ns, 'alpha-workers']);
    expect(headless.spec.clusterIP).to.equal('None');
    expect(headless.spec.publishNotReadyAddresses).to.equal(true);
    expect(c.status).to.deep.include({ phase: 'Running' });
    expect(c.status.master).to.include({
      podName: 'alpha-master',
      ready: true,
      uid: master.metadata.uid,
      endpoint: `alpha-master.${ns}.svc:7077`,
    });
    expect(c.status.workers).to.include({
      replicas: 3,
      readyReplicas: 3,
      updatedReplicas: 3,
      summary: '3/3',
      selector: 'compute.gaffer.dev/cluster=alpha,compute.gaffer.dev/role=worker',
    });
    for (const t of ['Ready', 'MasterReady', 'WorkersReady']) expect(cond(c, t).status).to.equal('True');
    for (const t of ['Reconciling', 'Stalled', 'ReplicaFailure', 'Suspended'])
      expect(cond(c, t).status).to.equal('False');
    await k(['wait', '-n', ns, '--for=condition=Ready', 'computecluster/alpha', '--timeout=10s']);
  });

  it('writes status only when it changed: a steady cluster causes no writes and no LIST calls', async () => {
    const before = await cc('alpha');
    const writes = async () => {
      const { body } = await op.get(op.metricsPort, '/metrics');
      return body
        .split('\n')
        .filter((l) => /^rest_client_requests_total\{verb="(create|update|patch|delete|list)"/.test(l))
        .map((l) => Number(l.split(' ').pop()))
        .reduce((a, b) => a + b, 0);
    };
    const w0 = await writes();
    await new Promise((r) => setTimeout(r, 6000));
    expect((await cc('alpha')).metadata.resourceVersion).to.equal(before.metadata.resourceVersion);
    expect(await writes()).to.equal(w0);
  });

  it('scales through kubectl scale, clamps to min/max, and scales down in the api.md order', async () => {
    await apply(
      clusterManifest('scaler', {
        replicas: 5,
        max: 6,
        recovery: { crashLoop: { maxContainerRestarts: 1000, windowSeconds: 600 } },
      }),
    );
    await ready('scaler');
    // worker-3 not Ready (crash-looping slowly); worker-0 cheapest to delete; the rest by highest index.
    await k([
      'annotate',
      '-n',
      ns,
      'pod',
      'scaler-worker-3',
      'sim.gaffer.dev/crash-loop=true',
      'sim.gaffer.dev/crash-after=0s',
      'sim.gaffer.dev/restart-after=10m',
    ]);
    await k(['annotate', '-n', ns, 'pod', 'scaler-worker-0', 'controller.kubernetes.io/pod-deletion-cost=-100']);
    await waitFor(
      'worker-3 not ready',
      async () =>
        (await kjson(['get', 'pod', '-n', ns, 'scaler-worker-3'])).status.conditions.find(
          (x: any) => x.type === 'Ready',
        ).status === 'False',
    );
    await k(['scale', '-n', ns, 'computecluster/scaler', '--replicas=2']);
    await waitFor('2 workers', async () => names(await pods('scaler', 'worker')).length === 2, 30_000);
    expect(names(await pods('scaler', 'worker'))).to.deep.equal(['scaler-worker-1', 'scaler-worker-2']);
    // Up again: the lowest free indexes are reused.
    await k(['scale', '-n', ns, 'computecluster/scaler', '--replicas=4']);
    await waitFor('4 workers', async () => names(await pods('scaler', 'worker')).length === 4, 30_000);
    expect(names(await pods('scaler', 'worker'))).to.deep.equal([
      'scaler-worker-0',
      'scaler-worker-1',
      'scaler-worker-2',
      'scaler-worker-3',
    ]);
    // Clamped to maxReplicas.
    await k(['scale', '-n', ns, 'computecluster/scaler', '--replicas=50']);
    const c = await waitFor(
      'clamped',
      async () => {
        const c = await cc('scaler');
        return c.status?.workers?.desiredReplicas === 6 && c.status.workers.readyReplicas === 6 && c;
      },
      30_000,
    );
    expect(c.spec.workers.replicas).to.equal(50); // the controller never writes spec
    expect(names(await pods('scaler', 'worker'))).to.have.length(6);
    const scale = JSON.parse(
      await k(['get', '--raw', `/apis/compute.gaffer.dev/v1alpha1/namespaces/${ns}/computeclusters/scaler/scale`]),
    );
    expect(scale.status).to.deep.equal({
      replicas: 6,
      selector: 'compute.gaffer.dev/cluster=scaler,compute.gaffer.dev/role=worker',
    });
  });

  it('replaces failed, evicted, succeeded and deleted workers, counting each with an Event', async () => {
    await apply(
      clusterManifest('healer', { replicas: 4, recovery: { backoff: { initialSeconds: 1, maxSeconds: 2 } } }),
    );
    await ready('healer');
    const uid = async (name: string) => (await kjson(['get', 'pod', '-n', ns, name])).metadata.uid;
    const old = {
      0: await uid('healer-worker-0'),
      1: await uid('healer-worker-1'),
      2: await uid('healer-worker-2'),
      3: await uid('healer-worker-3'),
    };
    await k(['annotate', '-n', ns, 'pod', 'healer-worker-0', 'sim.gaffer.dev/fail-after=0s']);
    await k([
      'annotate',
      '-n',
      ns,
      'pod',
      'healer-worker-1',
      'sim.gaffer.dev/fail-after=0s',
      'sim.gaffer.dev/pod-reason=Evicted',
    ]);
    await k(['annotate', '-n', ns, 'pod', 'healer-worker-2', 'sim.gaffer.dev/complete-after=0s']);
    await k(['delete', '-n', ns, 'pod', 'healer-worker-3', '--wait=false']);
    await waitFor(
      'all four replaced',
      async () => {
        const ps = live(await pods('healer', 'worker'));
        return (
          ps.length === 4 &&
          ps.every((p) => !Object.values(old).includes(p.metadata.uid) && p.status?.phase === 'Running')
        );
      },
      60_000,
    );
    expect(names(await pods('healer', 'worker'))).to.deep.equal([
      'healer-worker-0',
      'healer-worker-1',
      'healer-worker-2',
      'healer-worker-3',
    ]);
    const c = await ready('healer');
    expect(c.status.recovery.podsReplaced).to.be.greaterThanOrEqual(3);
    const reasons = new Set(
      [...(await events('PodFailed')), ...(await events('Evicted')), ...(await events('PodSucceeded'))]
        .filter((e: any) => e.regarding.name === 'healer')
        .map((e: any) => e.reason),
    );
    expect([...reasons].sort()).to.deep.equal(['Evicted', 'PodFailed', 'PodSucceeded']);
  });

  it('replaces a worker crash-looping beyond podRecovery.crashLoop', async () => {
    await apply(
      clusterManifest('loopy', {
        replicas: 1,
        recovery: { crashLoop: { maxContainerRestarts: 2, windowSeconds: 600 } },
      }),
    );
    await ready('loopy');
    const before = (await kjson(['get', 'pod', '-n', ns, 'loopy-worker-0'])).metadata.uid;
    await k([
      'annotate',
      '-n',
      ns,
      'pod',
      'loopy-worker-0',
      'sim.gaffer.dev/crash-loop=true',
      'sim.gaffer.dev/crash-after=0s',
      'sim.gaffer.dev/restart-after=0s',
    ]);
    await waitFor(
      'replaced',
      async () =>
        live(await pods('loopy', 'worker')).some((p) => p.metadata.uid !== before && p.status?.phase === 'Running'),
      60_000,
    );
    expect((await events('CrashLoop')).some((e: any) => e.regarding.name === 'loopy')).to.equal(true);
    expect((await cc('loopy')).status.recovery.lastReason).to.equal('CrashLoop');
  });

  it('replaces a pod whose node is NotReady beyond nodeLossSeconds on a healthy node', async () => {
    await apply(clusterManifest('nodeloss', { replicas: 3 }));
    await ready('nodeloss');
    const victim = live(await pods('nodeloss', 'worker'))[0];
    const node = victim.spec.nodeName;
    // As on a real dead node, a graceful delete would leave the pod Terminating for good.
    await k(['annotate', '-n', ns, 'pod', victim.metadata.name, 'sim.gaffer.dev/kubelet-gone=true']);
    try {
      await k(['label', 'node', node, 'sim.gaffer.dev/not-ready=true']);
      const replaced = await waitFor(
        'replacement on another node',
        async () => {
          const p = live(await pods('nodeloss', 'worker')).find((x) => x.metadata.name === victim.metadata.name);
          return p && p.metadata.uid !== victim.metadata.uid && p.spec.nodeName && p;
        },
        60_000,
      );
      expect(replaced.spec.nodeName).to.not.equal(node);
      expect((await events('NodeLost')).some((e: any) => e.regarding.name === 'nodeloss')).to.equal(true);
    } finally {
      await k(['label', 'node', node, 'sim.gaffer.dev/not-ready-']);
    }
    await waitFor(
      'node Ready',
      async () =>
        (await kjson(['get', 'node', node])).status.conditions.find((c: any) => c.type === 'Ready').status === 'True',
    );
  });

  it('waits for the exponential backoff between replacements, and resets it after a healthy period', async () => {
    await apply(
      clusterManifest('backoff', {
        replicas: 1,
        recovery: { backoff: { initialSeconds: 4, maxSeconds: 60 }, resetAfterSeconds: 8 },
      }),
    );
    await ready('backoff');
    // Fails the worker and returns when its replacement appeared (ms since the epoch) and how long that took.
    const failAndReplace = async () => {
      const uid = (await kjson(['get', 'pod', '-n', ns, 'backoff-worker-0'])).metadata.uid;
      await k(['annotate', '-n', ns, 'pod', 'backoff-worker-0', 'sim.gaffer.dev/fail-after=0s']);
      const failedAt = Date.now();
      await waitFor(
        'replaced',
        async () =>
          live(await pods('backoff', 'worker')).some((p) => p.metadata.uid !== uid && p.status?.phase === 'Running'),
        60_000,
        100,
      );
      // `at`: when the operator decided the replacement (recorded before it acted).
      return { at: Date.parse((await cc('backoff')).status.recovery.lastFailureTime), took: Date.now() - failedAt };
    };
    const first = await failAndReplace();
    const second = await failAndReplace();
    expect(first.took, `first replacement took ${first.took} ms`).to.be.lessThan(3000); // the first in a streak is immediate
    expect(second.at - first.at, `replacements ${second.at - first.at} ms apart`).to.be.greaterThanOrEqual(4000); // then initialSeconds (4)
    const c = await cc('backoff');
    expect(c.status.recovery.failureStreak).to.equal(2);
    expect(Date.parse(c.status.recovery.nextAttemptTime) - Date.parse(c.status.recovery.lastFailureTime)).to.equal(
      8000,
    ); // doubled
    await new Promise((r) => setTimeout(r, 9000)); // healthy longer than resetAfterSeconds
    const third = await failAndReplace();
    expect(third.took, `after the reset the replacement took ${third.took} ms`).to.be.lessThan(3000);
    expect((await cc('backoff')).status.recovery.podsReplaced).to.equal(3);
  });

  it('recreates a lost master (RecreateMaster) without touching the workers; status.master.uid changes', async () => {
    await apply(
      clusterManifest('keeper', { replicas: 2, recovery: { backoff: { initialSeconds: 1, maxSeconds: 2 } } }),
    );
    const c0 = await ready('keeper');
    const workerUids = live(await pods('keeper', 'worker'))
      .map((p) => p.metadata.uid)
      .sort();
    await k(['annotate', '-n', ns, 'pod', 'keeper-master', 'sim.gaffer.dev/fail-after=0s']);
    const c1 = await waitFor(
      'new master',
      async () => {
        const c = await cc('keeper');
        return c.status.master.uid && c.status.master.uid !== c0.status.master.uid && c.status.master.ready && c;
      },
      60_000,
    );
    expect(c1.status.master.restarts).to.equal(1);
    expect(
      live(await pods('keeper', 'worker'))
        .map((p) => p.metadata.uid)
        .sort(),
    ).to.deep.equal(workerUids);
    expect((await events('MasterLost')).some((e: any) => e.regarding.name === 'keeper')).to.equal(true);
  });

  it('restarts the whole cluster on master loss with RestartCluster, and stalls beyond maxRestarts', async () => {
    await apply(
      clusterManifest('strict', {
        replicas: 2,
        failurePolicy: { action: 'RestartCluster', maxRestarts: 1, windowSeconds: 600 },
        recovery: { backoff: { initialSeconds: 1, maxSeconds: 2 } },
      }),
    );
    const c0 = await ready('strict');
    const workerUids = live(await pods('strict', 'worker')).map((p) => p.metadata.uid);
    await k(['annotate', '-n', ns, 'pod', 'strict-master', 'sim.gaffer.dev/fail-after=0s']);
    await waitFor(
      'cluster restarted',
      async () => {
        const c = await cc('strict');
        const ws = live(await pods('strict', 'worker'));
        return (
          c.status.master.uid &&
          c.status.master.uid !== c0.status.master.uid &&
          ws.length === 2 &&
          ws.every((p) => !workerUids.includes(p.metadata.uid)) &&
          cond(c, 'Ready')?.status === 'True'
        );
      },
      60_000,
    );
    await k(['annotate', '-n', ns, 'pod', 'strict-master', 'sim.gaffer.dev/fail-after=0s']);
    const stalled = await waitFor(
      'stalled',
      async () => {
        const c = await cc('strict');
        return cond(c, 'Stalled')?.status === 'True' && c;
      },
      60_000,
    );
    expect(cond(stalled, 'Stalled').reason).to.equal('MasterRestartLimit');
    expect(stalled.status.phase).to.equal('Failed');
    expect(cond(stalled, 'Ready').status).to.equal('False');
  });

  it('rolls a worker template change out by revision, and recreates the master only for its own template', async () => {
    await apply(
      clusterManifest('roller', { replicas: 4, updateStrategy: { type: 'RollingUpdate', maxUnavailable: 1 } }),
    );
    const c0 = await ready('roller');
    const masterUid = c0.status.master.uid;
    await apply(
      clusterManifest('roller', {
        replicas: 4,
        workerEnv: { VERSION: '2' },
        updateStrategy: { type: 'RollingUpdate', maxUnavailable: 1 },
      }),
    );
    const c1 = await waitFor(
      'rolled',
      async () => {
        const c = await cc('roller');
        return (
          c.status.revision.workers !== c0.status.revision.workers &&
          c.status.workers.updatedReplicas === 4 &&
          cond(c, 'Ready')?.status === 'True' &&
          c
        );
      },
      90_000,
    );
    for (const p of live(await pods('roller', 'worker')))
      expect(p.metadata.labels['compute.gaffer.dev/revision']).to.equal(c1.status.revision.workers);
    expect(c1.status.master.uid).to.equal(masterUid);
    const workerUids = live(await pods('roller', 'worker'))
      .map((p) => p.metadata.uid)
      .sort();
    await apply(
      clusterManifest('roller', {
        replicas: 4,
        workerEnv: { VERSION: '2' },
        masterAnnotations: { touched: 'v2' },
        updateStrategy: { type: 'RollingUpdate', maxUnavailable: 1 },
      }),
    );
    const c2 = await waitFor(
      'master recreated',
      async () => {
        const c = await cc('roller');
        return c.status.master.uid && c.status.master.uid !== masterUid && c.status.master.ready && c;
      },
      60_000,
    );
    expect(c2.status.master.restarts).to.equal(0); // a template change is not a failure
    expect(
      live(await pods('roller', 'worker'))
        .map((p) => p.metadata.uid)
        .sort(),
    ).to.deep.equal(workerUids);
  });

  it('suspends (pods deleted, Services and CR kept) and resumes', async () => {
    await apply(clusterManifest('sleeper', { replicas: 2 }));
    await ready('sleeper');
    await k(['patch', '-n', ns, 'cc', 'sleeper', '--type=merge', '-p', '{"spec":{"suspend":true}}']);
    const s = await waitFor(
      'suspended',
      async () => {
        const c = await cc('sleeper');
        return cond(c, 'Suspended')?.status === 'True' && (await pods('sleeper')).length === 0 && c;
      },
      30_000,
    );
    expect(s.status.phase).to.equal('Suspended');
    await k(['get', 'svc', '-n', ns, 'sleeper-master', 'sleeper-workers']);
    await k(['patch', '-n', ns, 'cc', 'sleeper', '--type=merge', '-p', '{"spec":{"suspend":false}}']);
    await ready('sleeper');
    expect(names(await pods('sleeper', 'worker'))).to.deep.equal(['sleeper-worker-0', 'sleeper-worker-1']);
  });

  it('is crash safe: an operator killed mid scale-up and restarted makes no duplicates or orphans', async () => {
    await apply(clusterManifest('crashy', { replicas: 1 }));
    await ready('crashy');
    await k(['scale', '-n', ns, 'computecluster/crashy', '--replicas=40']);
    await waitFor('scale-up under way', async () => live(await pods('crashy', 'worker')).length > 1, 30_000, 20);
    op.signal('SIGKILL');
    await op.wait();
    const midway = live(await pods('crashy', 'worker')).length;
    await startOperator();
    const c = await ready('crashy', 120_000);
    const ws = live(await pods('crashy', 'worker'));
    expect(ws.map((p) => p.metadata.name).sort()).to.deep.equal(
      Array.from({ length: 40 }, (_, i) => `crashy-worker-${i}`).sort(),
    );
    expect(new Set(ws.map((p) => p.metadata.labels['compute.gaffer.dev/worker-index'])).size).to.equal(40);
    expect(ws.every((p) => p.metadata.ownerReferences?.[0]?.uid === c.metadata.uid)).to.equal(true);
    expect(midway, 'the kill should land mid scale-up').to.be.lessThan(40);
  });

  it('reports a pod the API server refuses as ReplicaFailure, backs off, and leaves running pods alone', async () => {
    await apply(clusterManifest('refused', { replicas: 1 }));
    await ready('refused');
    const running = live(await pods('refused'))
      .map((p) => p.metadata.uid)
      .sort();
    await k(['label', 'namespace', ns, 'pod-security.kubernetes.io/enforce=restricted']);
    try {
      await k(['scale', '-n', ns, 'computecluster/refused', '--replicas=3']);
      const c = await waitFor(
        'ReplicaFailure',
        async () => {
          const c = await cc('refused');
          return cond(c, 'ReplicaFailure')?.status === 'True' && c;
        },
        30_000,
      );
      expect(cond(c, 'ReplicaFailure').message).to.match(/violates PodSecurity "restricted/);
      const creates = async () =>
        (await op.metric('rest_client_requests_total', 'verb="create",resource="pods",code="403"')) ?? 0;
      const n0 = await creates();
      await new Promise((r) => setTimeout(r, 8000));
      // Backoff, not a hot loop: initialSeconds 2 doubling gives at most a few tries in 8 s.
      expect((await creates()) - n0).to.be.lessThanOrEqual(3);
      expect(
        live(await pods('refused'))
          .map((p) => p.metadata.uid)
          .sort(),
      ).to.deep.equal(running);
      // A compliant template is accepted and the failure clears.
      await apply(clusterManifest('refused', { replicas: 3, secure: true }));
      await waitFor(
        'ReplicaFailure cleared',
        async () => {
          const c = await cc('refused');
          return cond(c, 'ReplicaFailure')?.status === 'False' && c.status.workers.replicas === 3;
        },
        60_000,
      );
    } finally {
      await k(['label', 'namespace', ns, 'pod-security.kubernetes.io/enforce-']);
    }
  });

  it("reports a ResourceQuota refusal and an invalid pod template as ReplicaFailure with the server's message", async () => {
    await apply(clusterManifest('quota', { replicas: 1 }));
    await ready('quota');
    // Cap pods at what the namespace uses now, once the quota controller has counted them.
    await k(['create', 'quota', 'pods-cap', '-n', ns, '--hard=pods=1000']);
    const used = await waitFor(
      'quota usage',
      async () => (await kjson(['get', 'quota', 'pods-cap', '-n', ns])).status?.used?.pods,
    );
    await k([
      'patch',
      'quota',
      'pods-cap',
      '-n',
      ns,
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { hard: { pods: used } } }),
    ]);
    await waitFor(
      'quota capped',
      async () => (await kjson(['get', 'quota', 'pods-cap', '-n', ns])).status?.hard?.pods === used,
    );
    try {
      await k(['scale', '-n', ns, 'computecluster/quota', '--replicas=2']);
      const c = await waitFor(
        'quota ReplicaFailure',
        async () => {
          const c = await cc('quota');
          return cond(c, 'ReplicaFailure')?.status === 'True' && c;
        },
        30_000,
      );
      expect(cond(c, 'ReplicaFailure').message).to.match(/exceeded quota: pods-cap/);
    } finally {
      await k(['delete', 'quota', 'pods-cap', '-n', ns]);
    }
    await waitFor(
      'quota lifted',
      async () => {
        const c = await cc('quota');
        return cond(c, 'ReplicaFailure')?.status === 'False' && c.status.workers.readyReplicas === 2;
      },
      60_000,
    );

    // The CRD accepts a container without an image (as PodTemplateSpec's schema does); pod validation does not.
    const noImage = clusterManifest('noimage', { replicas: 1 });
    delete noImage.spec.workers.template.spec.containers[0].image;
    await apply(noImage);
    // The master is accepted and runs; only the workers are refused.
    const c = await waitFor(
      'invalid template ReplicaFailure',
      async () => {
        const c = await cc('noimage');
        return cond(c, 'ReplicaFailure')?.status === 'True' && c.status.master.ready && c;
      },
      30_000,
    );
    expect(cond(c, 'ReplicaFailure').message).to.include('spec.containers[0].image: Required value');
    expect(c.status.workers.replicas).to.equal(0);
  });

  it('deletes everything through the garbage collector when the ComputeCluster is deleted', async () => {
    await k(['delete', '-n', ns, 'computecluster', 'alpha']);
    await waitFor(
      'pods and services gone',
      async () =>
        (await pods('alpha')).length === 0 &&
        (await kubectl(['get', 'svc', '-n', ns, 'alpha-master'])).code !== 0 &&
        (await kubectl(['get', 'svc', '-n', ns, 'alpha-workers'])).code !== 0,
      60_000,
    );
  });
});

// The ComputeCluster controller on the real control plane, with KWOK making pods fail,
// crash-loop or sit on a NotReady node (hack/README.md).
import { expect } from 'chai';
import { validateStoredCluster } from '../../src/api/v1alpha1/index.ts';
import { revisionHash } from '../../src/builders/hash.ts';
import { buildWorkerPod } from '../../src/builders/pods.ts';
import {
  apply,
  AUDIT_LOG,
  cond,
  envOf,
  k,
  live,
  nodeReady,
  OperatorProcess,
  podNames,
  podUids,
  setup,
  sleep,
  toYaml,
  podsAndNodes,
  waitFor,
  withOperatorThroughFaultProxy,
  whileNodeNotReady,
  whileRefused,
} from './harness.ts';
import type { FaultProxy, SeenRequest } from '../../hack/fault-proxy.ts';
import { deletionsBefore, readDeletions } from '../../hack/soak/deletions.ts';

const image = 'registry.invalid/compute:1';

function clusterManifest(
  name: string,
  o: {
    replicas?: number;
    min?: number;
    max?: number;
    workerEnv?: Record<string, string>;
    workerAnnotations?: Record<string, string>;
    /** Binds every worker to this node, past the scheduler. */
    workerNodeName?: string;
    workerNodeSelector?: Record<string, string>;
    masterAnnotations?: Record<string, string>;
    masterPorts?: any[];
    serviceType?: string;
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
        ...(o.masterPorts ? { ports: o.masterPorts } : {}),
        ...(o.serviceType ? { serviceType: o.serviceType } : {}),
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
            ...(o.workerNodeName ? { nodeName: o.workerNodeName } : {}),
            ...(o.workerNodeSelector ? { nodeSelector: o.workerNodeSelector } : {}),
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
  const s = setup('cc', { operator: ['--resync-period', '1m'] });

  const cc = (name: string) => s.ns.get('computecluster', name);
  const pods = (cluster: string, role?: string) =>
    s.ns.list('pods', `compute.gaffer.dev/cluster=${cluster}${role ? `,compute.gaffer.dev/role=${role}` : ''}`);
  const ready = (name: string, timeout = 60_000) =>
    s.ns
      .until(
        'computecluster',
        name,
        'Ready',
        (c) => cond(c, 'Ready')?.status === 'True' && c.status.observedGeneration === c.metadata.generation,
        timeout,
      )
      .catch(async (e: Error) => {
        throw new Error(`${e.message}\n${await podsAndNodes(s.ns.name, `compute.gaffer.dev/cluster=${name}`)}`);
      });
  /** Applies the manifest and waits until the cluster is Ready. */
  const create = async (name: string, o: Parameters<typeof clusterManifest>[1]) => {
    await s.ns.apply(clusterManifest(name, o));
    return ready(name);
  };
  /** KWOK simulation annotations on a pod (hack/README.md). */
  const sim = (pod: string, annotations: Record<string, string>) => s.ns.annotate('pod', pod, annotations);
  const failPod = (pod: string) => sim(pod, { 'sim.gaffer.dev/fail-after': '0s' });
  const crashLoop = (pod: string, restartAfter: string) =>
    sim(pod, {
      'sim.gaffer.dev/crash-loop': 'true',
      'sim.gaffer.dev/crash-after': '0s',
      'sim.gaffer.dev/restart-after': restartAfter,
    });
  const eventCount = async (reason: string, cluster: string) => (await s.ns.events(reason, cluster)).length;
  /** Runs `fn` with the suite's operator talking through a fault proxy; restores it after. */
  const throughFaultProxy = (fn: (proxy: FaultProxy) => Promise<void>) => withOperatorThroughFaultProxy(s, [], fn);
  const scale = (name: string, replicas: number) => s.ns.scale('computecluster', name, replicas);
  const masterChanged = (name: string, oldUid: string, timeout = 60_000) =>
    s.ns.until(
      'computecluster',
      name,
      'has a new master',
      (c) => c.status.master.uid && c.status.master.uid !== oldUid && c.status.master.ready,
      timeout,
    );

  /**
   * Why a cluster's master restarts are what they are, for an assertion's message: the operator's
   * MasterLost events and who deleted the cluster's pods (the audit log), so that a failure in CI
   * is explained by CI's output alone.
   */
  const masterLossStory = async (name: string) => {
    const losses = (await s.ns.events('MasterLost', name)).map((e) => e.note);
    const deletions = deletionsBefore(readDeletions(AUDIT_LOG, [s.ns.name]), s.ns.name, name, Date.now(), 600_000);
    return `MasterLost events: ${JSON.stringify(losses)}; deletions of its pods: ${deletions.join('; ')}`;
  };

  describe('creates the master, its Service, indexed workers and the headless Service, wired as docs/api.md says', () => {
    let c: any;
    let master: any;
    let workers: any[];
    before(async () => {
      c = await create('alpha', { replicas: 3 });
      [master] = await pods('alpha', 'master');
      workers = await pods('alpha', 'worker');
    });

    it('names the master and the workers by index', () => {
      expect(podNames(workers)).to.deep.equal(['alpha-worker-0', 'alpha-worker-1', 'alpha-worker-2']);
      expect(master.metadata.name).to.equal('alpha-master');
    });

    it("labels every pod as Gaffer's and makes the ComputeCluster its controller", () => {
      for (const p of [master, ...workers]) {
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
    });

    it('gives the master the GAFFER_* environment, keeping what the template sets', () => {
      expect(envOf(master)).to.deep.include({
        GAFFER_CLUSTER: 'alpha',
        GAFFER_NAMESPACE: s.ns.name,
        GAFFER_ROLE: 'user-set',
        GAFFER_MASTER_HOST: `alpha-master.${s.ns.name}.svc`,
        GAFFER_MASTER_PORT: '7077',
        GAFFER_MASTER_ADDR: `alpha-master.${s.ns.name}.svc:7077`,
      });
    });

    it('gives each worker its index in the environment and labels, and a stable hostname', () => {
      const w1 = workers.find((p) => p.metadata.name === 'alpha-worker-1');
      expect(envOf(w1)).to.deep.include({ GAFFER_ROLE: 'worker', GAFFER_WORKER_INDEX: '1', GAFFER_WORKERS: '3' });
      expect(w1.metadata.labels).to.include({
        'compute.gaffer.dev/role': 'worker',
        'compute.gaffer.dev/worker-index': '1',
        team: 'data',
      });
      expect(w1.spec).to.include({ hostname: 'alpha-worker-1', subdomain: 'alpha-workers' });
    });

    it('selects the master with its Service and the workers with a headless one', async () => {
      const svc = await s.ns.get('svc', 'alpha-master');
      expect(svc.spec.selector).to.deep.equal({
        'compute.gaffer.dev/cluster': 'alpha',
        'compute.gaffer.dev/role': 'master',
      });
      expect(svc.spec.ports.map((p: any) => p.port)).to.deep.equal([7077]);
      const headless = await s.ns.get('svc', 'alpha-workers');
      expect(headless.spec.clusterIP).to.equal('None');
      expect(headless.spec.publishNotReadyAddresses).to.equal(true);
    });

    it('reports the phase, the master and the workers in status', () => {
      expect(c.status).to.deep.include({ phase: 'Running' });
      expect(c.status.master).to.include({
        podName: 'alpha-master',
        ready: true,
        uid: master.metadata.uid,
        endpoint: `alpha-master.${s.ns.name}.svc:7077`,
      });
      expect(c.status.workers).to.include({
        replicas: 3,
        readyReplicas: 3,
        updatedReplicas: 3,
        summary: '3/3',
        selector: 'compute.gaffer.dev/cluster=alpha,compute.gaffer.dev/role=worker',
      });
    });

    it('sets the conditions that kubectl wait understands', async () => {
      for (const t of ['Ready', 'MasterReady', 'WorkersReady']) expect(cond(c, t).status).to.equal('True');
      for (const t of ['Reconciling', 'Stalled', 'ReplicaFailure', 'Suspended'])
        expect(cond(c, t).status).to.equal('False');
      await s.ns.k(['wait', '--for=condition=Ready', 'computecluster/alpha', '--timeout=10s']);
    });

    it('writes status only when it changed: a steady cluster causes no writes and no LIST calls', async () => {
      const before = await cc('alpha');
      const writes = async () =>
        (await s.op.metrics())
          .filter((l) => /^rest_client_requests_total\{verb="(create|update|patch|delete|list)"/.test(l))
          .map((l) => Number(l.split(' ').pop()))
          .reduce((a, b) => a + b, 0);
      const w0 = await writes();
      await sleep(6000);
      expect((await cc('alpha')).metadata.resourceVersion).to.equal(before.metadata.resourceVersion);
      expect(await writes()).to.equal(w0);
    });
  });

  describe('scaling', () => {
    it('scales through kubectl scale, clamps to min/max, and scales down in the docs/api.md order', async () => {
      await create('scaler', {
        replicas: 5,
        max: 6,
        recovery: { crashLoop: { maxContainerRestarts: 1000, windowSeconds: 600 } },
      });
      // worker-3 not Ready (crash-looping slowly); worker-0 cheapest to delete; the rest by highest index.
      await crashLoop('scaler-worker-3', '10m');
      await s.ns.annotate('pod', 'scaler-worker-0', { 'controller.kubernetes.io/pod-deletion-cost': '-100' });
      await s.ns.until('pod', 'scaler-worker-3', 'not ready', (p) => cond(p, 'Ready').status === 'False');
      const workerCount = (n: number) =>
        waitFor(`${n} workers`, async () => podNames(await pods('scaler', 'worker')).length === n, 30_000);
      await scale('scaler', 2);
      await workerCount(2);
      expect(podNames(await pods('scaler', 'worker'))).to.deep.equal(['scaler-worker-1', 'scaler-worker-2']);
      // Up again: the lowest free indexes are reused.
      await scale('scaler', 4);
      await workerCount(4);
      expect(podNames(await pods('scaler', 'worker'))).to.deep.equal([
        'scaler-worker-0',
        'scaler-worker-1',
        'scaler-worker-2',
        'scaler-worker-3',
      ]);
      // Clamped to maxReplicas.
      await scale('scaler', 50);
      const c = await s.ns.until(
        'computecluster',
        'scaler',
        'clamped',
        (c) => c.status?.workers?.desiredReplicas === 6 && c.status.workers.readyReplicas === 6,
        30_000,
      );
      expect(c.spec.workers.replicas).to.equal(50); // the controller never writes spec
      expect(podNames(await pods('scaler', 'worker'))).to.have.length(6);
      const scaleSub = JSON.parse(
        await s.ns.k([
          'get',
          '--raw',
          `/apis/compute.gaffer.dev/v1alpha1/namespaces/${s.ns.name}/computeclusters/scaler/scale`,
        ]),
      );
      expect(scaleSub.status).to.deep.equal({
        replicas: 6,
        selector: 'compute.gaffer.dev/cluster=scaler,compute.gaffer.dev/role=worker',
      });
    });
  });

  describe('pod recovery', () => {
    it('replaces failed, evicted, succeeded and deleted workers, counting each with an Event', async () => {
      await create('healer', { replicas: 4, recovery: { backoff: { initialSeconds: 1, maxSeconds: 2 } } });
      const old = podUids(await pods('healer', 'worker'));
      expect(old).to.have.length(4);
      await failPod('healer-worker-0');
      await sim('healer-worker-1', { 'sim.gaffer.dev/fail-after': '0s', 'sim.gaffer.dev/pod-reason': 'Evicted' });
      await sim('healer-worker-2', { 'sim.gaffer.dev/complete-after': '0s' });
      await s.ns.delete('pod', 'healer-worker-3', '--wait=false');
      await waitFor(
        'all four replaced',
        async () => {
          const ps = live(await pods('healer', 'worker'));
          return ps.length === 4 && ps.every((p) => !old.includes(p.metadata.uid) && p.status?.phase === 'Running');
        },
        60_000,
      );
      expect(podNames(await pods('healer', 'worker'))).to.deep.equal([
        'healer-worker-0',
        'healer-worker-1',
        'healer-worker-2',
        'healer-worker-3',
      ]);
      const c = await ready('healer');
      expect(c.status.recovery.podsReplaced).to.be.greaterThanOrEqual(3);
      const reasons = [];
      for (const r of ['PodFailed', 'Evicted', 'PodSucceeded']) if (await eventCount(r, 'healer')) reasons.push(r);
      expect(reasons.sort()).to.deep.equal(['Evicted', 'PodFailed', 'PodSucceeded']);
    });

    it('replaces a worker crash-looping beyond podRecovery.crashLoop', async () => {
      await create('loopy', { replicas: 1, recovery: { crashLoop: { maxContainerRestarts: 2, windowSeconds: 600 } } });
      const before = (await s.ns.get('pod', 'loopy-worker-0')).metadata.uid;
      await crashLoop('loopy-worker-0', '0s');
      await waitFor(
        'replaced',
        async () =>
          live(await pods('loopy', 'worker')).some((p) => p.metadata.uid !== before && p.status?.phase === 'Running'),
        60_000,
      );
      expect(await eventCount('CrashLoop', 'loopy')).to.be.greaterThan(0);
      expect((await cc('loopy')).status.recovery.lastReason).to.equal('CrashLoop');
    });

    it('replaces a pod whose node is NotReady beyond nodeLossSeconds on a healthy node', async () => {
      await create('nodeloss', { replicas: 3 });
      const victim = live(await pods('nodeloss', 'worker'))[0];
      const node = victim.spec.nodeName;
      // As on a real dead node, a graceful delete would leave the pod Terminating for good.
      await sim(victim.metadata.name, { 'sim.gaffer.dev/kubelet-gone': 'true' });
      await whileNodeNotReady(node, async () => {
        const replaced = await waitFor(
          'replacement on another node',
          async () => {
            const p = live(await pods('nodeloss', 'worker')).find((x) => x.metadata.name === victim.metadata.name);
            return p && p.metadata.uid !== victim.metadata.uid && p.spec.nodeName && p;
          },
          60_000,
        );
        expect(replaced.spec.nodeName).to.not.equal(node);
        expect(await eventCount('NodeLost', 'nodeloss')).to.be.greaterThan(0);
      });
    });

    it("gives a worker placed on an already NotReady node the whole nodeLossSeconds from its arrival, not the node's (no replace loop)", async () => {
      const node = (await k(['get', 'nodes', '-o', 'name'])).trim().split('\n')[0]!.replace('node/', '');
      await whileNodeNotReady(node, async () => {
        await waitFor(`node ${node} NotReady`, async () => (await nodeReady(node)).status !== 'True', 30_000);
        await sleep(9000); // NotReady for longer than nodeLossSeconds (8) before the worker arrives
        await s.ns.apply(
          clusterManifest('late', { replicas: 1, workerNodeName: node, recovery: { nodeLossSeconds: 8 } }),
        );
        const first = await waitFor('late-worker-0', async () => (await pods('late', 'worker'))[0], 30_000);
        // Within nodeLossSeconds of its arrival (counted from the node's transition, it went at once):
        // 5 s after its creation by the server's clock, however late the test saw it.
        await sleep(Date.parse(first.metadata.creationTimestamp) + 5000 - Date.now());
        const now = live(await pods('late', 'worker'));
        expect(podUids(now), 'the first worker is still there').to.deep.equal([first.metadata.uid]);
        expect((await cc('late')).status?.recovery?.podsReplaced ?? 0).to.equal(0);
        // nodeLossSeconds after it arrived, it is lost like any pod on the node.
        await waitFor(
          'replaced as NodeLost',
          async () => live(await pods('late', 'worker')).some((p) => p.metadata.uid !== first.metadata.uid),
          30_000,
        );
        expect((await cc('late')).status.recovery.lastReason).to.equal('NodeLost');
      });
    });

    it('waits for the exponential backoff between replacements, and resets it after a healthy period', async () => {
      await create('backoff', {
        replicas: 1,
        recovery: { backoff: { initialSeconds: 4, maxSeconds: 60 }, resetAfterSeconds: 8 },
      });
      // Fails the worker, waits for its replacement to run, and returns when the operator decided
      // the replacement (`at`: status.recovery.lastFailureTime, written before it acts) and how long
      // after the test saw the worker fail (`took`): the operator's reaction alone, not KWOK's
      // latency to fail the pod and to run the next one (with those in, a 3 s bound had little slack under load).
      const failAndReplace = async () => {
        const uid = (await s.ns.get('pod', 'backoff-worker-0')).metadata.uid;
        await failPod('backoff-worker-0');
        const failedSeen = await waitFor(
          'the worker failed',
          async () => {
            const p = (await pods('backoff', 'worker')).find((x) => x.metadata.uid === uid);
            return (!p || p.status?.phase === 'Failed') && Date.now();
          },
          30_000,
          100,
        );
        await waitFor(
          'replaced',
          async () =>
            live(await pods('backoff', 'worker')).some((p) => p.metadata.uid !== uid && p.status?.phase === 'Running'),
          60_000,
          100,
        );
        const at = Date.parse((await cc('backoff')).status.recovery.lastFailureTime);
        return { at, took: at - failedSeen };
      };
      const first = await failAndReplace();
      const second = await failAndReplace();
      expect(first.took, `first replacement decided ${first.took} ms after the failure`).to.be.lessThan(3000); // the first in a streak is immediate
      expect(second.at - first.at, `replacements ${second.at - first.at} ms apart`).to.be.greaterThanOrEqual(4000); // then initialSeconds (4)
      const c = await cc('backoff');
      expect(c.status.recovery.failureStreak).to.equal(2);
      expect(Date.parse(c.status.recovery.nextAttemptTime) - Date.parse(c.status.recovery.lastFailureTime)).to.equal(
        8000,
      ); // doubled
      await sleep(9000); // healthy longer than resetAfterSeconds
      const third = await failAndReplace();
      expect(
        third.took,
        `after the reset the replacement was decided ${third.took} ms after the failure`,
      ).to.be.lessThan(3000);
      const after = await cc('backoff');
      expect(after.status.recovery.failureStreak, 'the streak started over').to.equal(1);
      expect(after.status.recovery.podsReplaced).to.equal(3);
    });

    it('recreates a lost master (RecreateMaster) without touching the workers; status.master.uid changes', async () => {
      const c0 = await create('keeper', { replicas: 2, recovery: { backoff: { initialSeconds: 1, maxSeconds: 2 } } });
      const workerUids = podUids(await pods('keeper', 'worker'));
      await failPod('keeper-master');
      const c1 = await masterChanged('keeper', c0.status.master.uid);
      expect(c1.status.master.restarts, await masterLossStory('keeper')).to.equal(1);
      expect(podUids(await pods('keeper', 'worker'))).to.deep.equal(workerUids);
      expect(await eventCount('MasterLost', 'keeper')).to.be.greaterThan(0);
    });

    it('restarts the whole cluster on master loss with RestartCluster, and stalls beyond maxRestarts', async () => {
      const c0 = await create('strict', {
        replicas: 2,
        failurePolicy: { action: 'RestartCluster', maxRestarts: 1, windowSeconds: 600 },
        recovery: { backoff: { initialSeconds: 1, maxSeconds: 2 } },
      });
      const workerUids = podUids(await pods('strict', 'worker'));
      await failPod('strict-master');
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
      await failPod('strict-master');
      const stalled = await s.ns.untilCondition('computecluster', 'strict', 'Stalled', 'True', 60_000);
      expect(cond(stalled, 'Stalled').reason).to.equal('MasterRestartLimit');
      expect(stalled.status.phase).to.equal('Failed');
      expect(cond(stalled, 'Ready').status).to.equal('False');
    });
  });

  describe('pod recovery: nodes absent from the cache (issue 11 #9)', () => {
    // Like PodGC, a pod is judged lost for a missing node only after the API server confirmed
    // the node gone (a live GET, 404) and 40 s of quarantine from when the operator first saw
    // it missing. Before, it was force-deleted at once on the cache's word.
    const QUARANTINE_MS = 40_000;
    const uidNow = async (pod: string) => (await s.ns.get('pod', pod)).metadata;
    /** The worker stays (same uid, not deleted) through most of the quarantine, then is replaced. */
    const quarantinedThenReplaced = async (cluster: string, uid: string, since: number) => {
      const pod = `${cluster}-worker-0`;
      await sleep(Math.max(0, since + QUARANTINE_MS - 10_000 - Date.now()));
      const meta = await uidNow(pod);
      expect(meta.uid, 'the worker was replaced within the quarantine').to.equal(uid);
      expect(meta.deletionTimestamp, 'the worker was deleted within the quarantine').to.equal(undefined);
      expect(await eventCount('NodeLost', cluster), 'NodeLost within the quarantine').to.equal(0);
      await waitFor(
        'replaced after the quarantine',
        async () => live(await pods(cluster, 'worker')).some((p) => p.metadata.uid !== uid),
        60_000,
      );
      // Not asserted: who deleted the old pod. kube-controller-manager's PodGC deletes pods on
      // missing nodes after its own 40 s quarantine (checked every 20 s), so it may come first;
      // either way the operator must not have acted within the quarantine, and replaces it after.
    };

    /**
     * Deletes the cluster and force-deletes its pods: on a missing node they would stay Terminating,
     * and its replacements, judged lost at once, would come and go for the rest of the file (a pod
     * quota or a count of refused creates in a later test saw them).
     */
    const removeCluster = async (cluster: string) => {
      await s.ns.delete('computecluster', cluster, '--wait=true');
      // Forced on every poll: a pod the operator created from a cache that still had the cluster
      // is deleted gracefully by the garbage collector, and would stay Terminating on a missing node.
      const force = ['delete', 'pod', '-l', `compute.gaffer.dev/cluster=${cluster}`, '--grace-period=0', '--force'];
      await waitFor(
        `${cluster}'s pods gone`,
        async () => (await s.ns.k(force)) !== undefined && (await pods(cluster)).length === 0,
        30_000,
      );
    };

    it('waits out the quarantine before replacing a worker bound to a node that never existed', async () => {
      await s.ns.apply(clusterManifest('ghost', { replicas: 1, workerNodeName: 'gaffer-ghost-node' }));
      try {
        const first = await s.ns.until('pod', 'ghost-worker-0', 'created', (p) => p.metadata.uid);
        await quarantinedThenReplaced('ghost', first.metadata.uid, Date.now());
      } finally {
        await removeCluster('ghost');
      }
    });

    it('does not force-delete a worker whose node was deleted before the quarantine, and replaces it after', async () => {
      const node = `gaffer-doomed-${Date.now() % 100_000}`;
      await apply({
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: node, annotations: { 'kwok.x-k8s.io/node': 'fake' }, labels: { type: 'kwok' } },
        // Only the worker, bound by name, runs there: the scheduler keeps the master off it.
        spec: { taints: [{ key: 'test.gaffer.dev/doomed', effect: 'NoSchedule' }] },
      });
      try {
        await create('doomed', { replicas: 1, workerNodeName: node });
        const uid = (await uidNow('doomed-worker-0')).uid;
        await k(['delete', 'node', node, '--wait=true']);
        await quarantinedThenReplaced('doomed', uid, Date.now());
      } finally {
        await k(['delete', 'node', node, '--ignore-not-found']);
        await removeCluster('doomed');
      }
    });
  });

  describe('template changes and suspension', () => {
    it('rolls a worker template change out by revision, and recreates the master only for its own template', async () => {
      const rolling = { replicas: 4, updateStrategy: { type: 'RollingUpdate', maxUnavailable: 1 } };
      const c0 = await create('roller', rolling);
      const masterUid = c0.status.master.uid;
      await s.ns.apply(clusterManifest('roller', { ...rolling, workerEnv: { VERSION: '2' } }));
      const c1 = await s.ns.until(
        'computecluster',
        'roller',
        'rolled',
        (c) =>
          c.status.revision.workers !== c0.status.revision.workers &&
          c.status.workers.updatedReplicas === 4 &&
          cond(c, 'Ready')?.status === 'True',
        90_000,
      );
      for (const p of live(await pods('roller', 'worker')))
        expect(p.metadata.labels['compute.gaffer.dev/revision']).to.equal(c1.status.revision.workers);
      expect(c1.status.master.uid).to.equal(masterUid);
      const workerUids = podUids(await pods('roller', 'worker'));
      await s.ns.apply(
        clusterManifest('roller', { ...rolling, workerEnv: { VERSION: '2' }, masterAnnotations: { touched: 'v2' } }),
      );
      const c2 = await masterChanged('roller', masterUid);
      expect(c2.status.master.restarts).to.equal(0); // a template change is not a failure
      expect(podUids(await pods('roller', 'worker'))).to.deep.equal(workerUids);
    });

    it('suspends (pods deleted, Services and CR kept) and resumes', async () => {
      await create('sleeper', { replicas: 2 });
      await s.ns.patch('cc', 'sleeper', { spec: { suspend: true } });
      const suspended = await waitFor(
        'suspended',
        async () => {
          const c = await cc('sleeper');
          return cond(c, 'Suspended')?.status === 'True' && (await pods('sleeper')).length === 0 && c;
        },
        30_000,
      );
      expect(suspended.status.phase).to.equal('Suspended');
      await s.ns.k(['get', 'svc', 'sleeper-master', 'sleeper-workers']);
      await s.ns.patch('cc', 'sleeper', { spec: { suspend: false } });
      await ready('sleeper');
      expect(podNames(await pods('sleeper', 'worker'))).to.deep.equal(['sleeper-worker-0', 'sleeper-worker-1']);
    });
  });

  // Issue 11's planner defects, each on the real control plane: these failed before the fix.
  describe('reliability of the workers plan (issue 11)', () => {
    const workerPods = async (cluster: string) => live(await pods(cluster, 'worker'));
    const uidOf = async (pod: string) => (await s.ns.get('pod', pod)).metadata.uid;
    /** Until pod `name` exists with a uid other than `oldUid` and runs. */
    const replaced = (cluster: string, name: string, oldUid: string, timeout = 30_000) =>
      waitFor(
        `${name} replaced`,
        async () =>
          (await workerPods(cluster)).find(
            (p) => p.metadata.name === name && p.metadata.uid !== oldUid && p.status?.phase === 'Running',
          ),
        timeout,
      );

    it('rolls a fixed template out to outdated workers stuck in ImagePullBackOff (#2)', async () => {
      const broken = { replicas: 2, workerAnnotations: { 'sim.gaffer.dev/image-pull-error': 'true' } };
      await s.ns.apply(clusterManifest('unpull', broken));
      await waitFor(
        'two workers in ImagePullBackOff',
        async () =>
          (await workerPods('unpull')).filter(
            (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff',
          ).length === 2,
        30_000,
      );
      // The template is fixed: both unavailable outdated workers are replaced, maxUnavailable 1 or not.
      const fixed = { replicas: 2, workerAnnotations: { 'sim.gaffer.dev/image-pull-error': 'false' } };
      await s.ns.apply(clusterManifest('unpull', fixed));
      const c = await s.ns.until(
        'computecluster',
        'unpull',
        'rolled out and Ready',
        (c) => c.status?.workers?.updatedReplicas === 2 && cond(c, 'Ready')?.status === 'True',
        45_000,
      );
      for (const p of await workerPods('unpull'))
        expect(p.metadata.labels['compute.gaffer.dev/revision']).to.equal(c.status.revision.workers);
    });

    it('says why a worker does not start: an image error at once, an unschedulable one after startupDeadlineSeconds; recreates nothing; clears once it runs', async () => {
      const stalled = (c: any) => cond(c, 'Stalled');
      // An image that cannot be pulled: reported at once (the default deadline is 900 s).
      await s.ns.apply(
        clusterManifest('nopull', { replicas: 1, workerAnnotations: { 'sim.gaffer.dev/image-pull-error': 'true' } }),
      );
      const pull = await s.ns.until(
        'computecluster',
        'nopull',
        'Stalled by the image',
        (c) => stalled(c)?.status === 'True' && /^(ErrImagePull|ImagePullBackOff)$/.test(stalled(c)?.reason ?? ''),
        30_000,
      );
      expect(stalled(pull).message).to.match(/^pod nopull-worker-0 cannot start: /);
      expect([cond(pull, 'Ready')?.status, cond(pull, 'Ready')?.reason]).to.deep.equal(['False', stalled(pull).reason]);
      expect(pull.status.phase, 'it may yet start: not Failed').to.equal('Pending');
      // No node fits: reported once the pod is 3 s old, with the scheduler's own message. The label
      // value is this run's namespace: a label left on a node by an aborted run cannot match it.
      const label = 'gaffer.dev/startup-test';
      await s.ns.apply(
        clusterManifest('nofit', {
          replicas: 1,
          workerNodeSelector: { [label]: s.ns.name },
          recovery: { startupDeadlineSeconds: 3 },
        }),
      );
      const uid = (await s.ns.until('pod', 'nofit-worker-0', 'created', (p) => p.metadata.uid)).metadata.uid;
      const fit = await s.ns.until(
        'computecluster',
        'nofit',
        'Stalled: Unschedulable',
        (c) => stalled(c)?.status === 'True' && stalled(c)?.reason === 'Unschedulable',
        30_000,
      );
      expect(stalled(fit).message).to.match(
        /^pod nofit-worker-0 did not start within startupDeadlineSeconds 3: 0\/\d+ nodes are available/,
      );
      const createdAt = Date.parse((await s.ns.get('pod', 'nofit-worker-0')).metadata.creationTimestamp);
      expect(Date.parse(stalled(fit).lastTransitionTime) - createdAt, 'not before the deadline').to.be.at.least(3000);
      // Events are sent without waiting for them: looked for until they are there.
      const said = (cluster: string, pod: string) =>
        waitFor(
          `a PodStartupBlocked event naming ${pod}`,
          async () => (await s.ns.events('PodStartupBlocked', cluster)).some((e) => e.note?.startsWith(`pod ${pod} `)),
          15_000,
          200,
        );
      await said('nopull', 'nopull-worker-0');
      await said('nofit', 'nofit-worker-0');
      await sleep(3000);
      expect((await s.ns.get('pod', 'nofit-worker-0')).metadata.uid, 'the pod is not recreated').to.equal(uid);
      expect(await eventCount('PodStartupBlocked', 'nofit'), 'no event per reconcile').to.be.at.most(2);
      // A node it fits: it runs, and the condition clears.
      const n = (await s.ns.get('pod', 'nofit-master')).spec.nodeName;
      await k(['label', 'node', n, `${label}=${s.ns.name}`, '--overwrite']);
      try {
        const ok = await ready('nofit');
        expect([stalled(ok)?.status, stalled(ok)?.reason]).to.deep.equal(['False', 'NotStalled']);
        expect((await s.ns.get('pod', 'nofit-worker-0')).metadata.uid).to.equal(uid);
      } finally {
        await k(['label', 'node', n, `${label}-`]);
        await s.ns.delete('computecluster', 'nofit');
        await s.ns.delete('computecluster', 'nopull');
      }
    });

    it('scales down a broken worker waiting for its backoff before any healthy one (#5)', async () => {
      await create('brokenscale', { replicas: 3, recovery: { backoff: { initialSeconds: 300, maxSeconds: 300 } } });
      // A first failure is replaced at once and starts a streak: the next one waits 300 s.
      const first = await uidOf('brokenscale-worker-0');
      await failPod('brokenscale-worker-0');
      await replaced('brokenscale', 'brokenscale-worker-0', first);
      await failPod('brokenscale-worker-1');
      await s.ns.until('pod', 'brokenscale-worker-1', 'failed', (p) => p.status?.phase === 'Failed');
      await s.ns.until('computecluster', 'brokenscale', 'waiting for the backoff', (c) =>
        cond(c, 'Reconciling')?.message?.includes('to replace after backoff'),
      );
      const healthy = [await uidOf('brokenscale-worker-0'), await uidOf('brokenscale-worker-2')].sort();
      await scale('brokenscale', 2);
      await s.ns.until('computecluster', 'brokenscale', 'scaled to 2', (c) => c.status?.workers?.replicas === 2);
      expect(podUids(await pods('brokenscale', 'worker'))).to.deep.equal(healthy);
    });

    it('replaces a failed worker while a scaled-down one is stuck terminating (#8)', async () => {
      await create('leftover', { replicas: 3 });
      // A finalizer (as a long grace period would) keeps the scaled-down worker Terminating.
      await s.ns.patch('pod', 'leftover-worker-2', { metadata: { finalizers: ['test.gaffer.dev/hold'] } });
      try {
        await scale('leftover', 2);
        await s.ns.until('pod', 'leftover-worker-2', 'terminating', (p) => p.metadata.deletionTimestamp);
        const old = await uidOf('leftover-worker-0');
        await failPod('leftover-worker-0');
        await replaced('leftover', 'leftover-worker-0', old);
        await ready('leftover', 30_000);
      } finally {
        await s.ns.patch('pod', 'leftover-worker-2', { metadata: { finalizers: null } });
      }
    });

    it('does not take a worker that crash-looped and has since recovered for a crash loop (#11)', async () => {
      const tolerant = { crashLoop: { maxContainerRestarts: 1000, windowSeconds: 15 } };
      await create('recovered', { replicas: 1, recovery: tolerant });
      await crashLoop('recovered-worker-0', '0s');
      await s.ns.until(
        'pod',
        'recovered-worker-0',
        '8 restarts',
        (p) => p.status?.containerStatuses?.[0]?.restartCount >= 8,
      );
      // It stops crashing: it runs, Ready, for longer than the window.
      await s.ns.k(['annotate', '--overwrite', 'pod', 'recovered-worker-0', 'sim.gaffer.dev/crash-after=24h']);
      const stable = await s.ns.until(
        'pod',
        'recovered-worker-0',
        'running for more than the window',
        (p) =>
          cond(p, 'Ready')?.status === 'True' &&
          Date.now() - Date.parse(p.status.containerStatuses[0].state.running?.startedAt) > 17_000,
        60_000,
      );
      // A stricter policy now: more than 1 restart within 15 s is a crash loop. None was.
      const strict = { crashLoop: { maxContainerRestarts: 1, windowSeconds: 15 } };
      await s.ns.apply(clusterManifest('recovered', { replicas: 1, recovery: strict }));
      await ready('recovered');
      await sleep(3000);
      expect(await uidOf('recovered-worker-0')).to.equal(stable.metadata.uid);
      expect(await eventCount('CrashLoop', 'recovered')).to.equal(0);
    });

    /** Moves a 2-worker cluster's master port to 7078; resolves when every pod is wired to it, with the address. */
    const moveMasterPort = async (cluster: string) => {
      const moved = { replicas: 2, masterPorts: [{ name: 'rpc', port: 7078, targetPort: 7077 }] };
      await s.ns.apply(clusterManifest(cluster, moved));
      const addr = `${cluster}-master.${s.ns.name}.svc:7078`;
      const wired = (p: any) => envOf(p).GAFFER_MASTER_ADDR === addr;
      const all = async () => live(await pods(cluster));
      await waitFor('every pod wired to the new port', async () => (await all()).filter(wired).length === 3, 60_000);
      return addr;
    };

    it('rolls a change of the master port out to the master and the workers (#12)', async () => {
      await create('ports', { replicas: 2 });
      const addr = await moveMasterPort('ports');
      const c = await ready('ports');
      expect(c.status.master.endpoint).to.equal(addr);
    });
    it('restarts no pod labelled before the revision covered the wiring (an operator upgrade)', async () => {
      // Pods made by an older operator carry a hash of the template alone: an upgrade must not
      // take them for outdated (recreating every master would end every running job attempt).
      const c = await create('upgraded', { replicas: 2 });
      const before = live(await pods('upgraded'));
      for (const p of before) {
        const template =
          p.metadata.labels['compute.gaffer.dev/role'] === 'master' ? c.spec.master.template : c.spec.workers.template;
        await s.ns.patch('pod', p.metadata.name, {
          metadata: { labels: { 'compute.gaffer.dev/revision': revisionHash(template) } },
        });
      }
      await scale('upgraded', 3);
      await waitFor(
        'the third worker Ready',
        async () => (await cc('upgraded')).status?.workers?.readyReplicas === 3,
        60_000,
      );
      const after = live(await pods('upgraded'));
      for (const p of before)
        expect(after.find((q) => q.metadata.name === p.metadata.name)?.metadata.uid, p.metadata.name).to.equal(
          p.metadata.uid,
        );
      expect(await eventCount('TemplateChanged', 'upgraded')).to.equal(0);
    });
    it('relabels pods of a template-only revision without a restart, so a later master-port change rolls them', async () => {
      // Before the fix such pods kept the old label and counted as current for as long as the
      // template stood: a change of the master's port never reached them.
      const c = await create('relabel', { replicas: 2 });
      const before = live(await pods('relabel'));
      const current = (p: any) =>
        p.metadata.labels['compute.gaffer.dev/role'] === 'master'
          ? c.status.revision.master
          : c.status.revision.workers;
      for (const p of before) {
        const role = p.metadata.labels['compute.gaffer.dev/role'];
        const template = role === 'master' ? c.spec.master.template : c.spec.workers.template;
        await s.ns.patch('pod', p.metadata.name, {
          metadata: { labels: { 'compute.gaffer.dev/revision': revisionHash(template) } },
        });
      }
      const relabelled = await waitFor(
        'every pod relabelled with the current revision',
        async () => {
          const ps = live(await pods('relabel'));
          return (
            ps.length === 3 && ps.every((p) => p.metadata.labels['compute.gaffer.dev/revision'] === current(p)) && ps
          );
        },
        30_000,
      );
      expect(podUids(relabelled), 'no pod restarted').to.deep.equal(podUids(before));
      expect(await eventCount('TemplateChanged', 'relabel')).to.equal(0);

      await moveMasterPort('relabel');
      const after = live(await pods('relabel'));
      expect(
        podUids(after).filter((u) => podUids(before).includes(u)),
        'every pod rolled',
      ).to.deep.equal([]);
    });
    it('rolls pods of a template-only revision wired to an older master port, and relabels those wired to the current one', async () => {
      // The master port changed before the operator relabelled the pods an older operator left
      // (it was down; the change came with the upgrade). Their template-only label says nothing
      // of their wiring: before the fix every one was relabelled with the new full revision, and
      // the master and worker 0 kept GAFFER_MASTER_ADDR on the old port for good.
      const c = await create('stale', { replicas: 2 });
      const templateOnly = (p: any) =>
        revisionHash(
          p.metadata.labels['compute.gaffer.dev/role'] === 'master' ? c.spec.master.template : c.spec.workers.template,
        );
      await s.op.stop();
      const before = podUids(await pods('stale'));
      let kept: any;
      try {
        for (const p of live(await pods('stale')))
          await s.ns.patch('pod', p.metadata.name, {
            metadata: { labels: { 'compute.gaffer.dev/revision': templateOnly(p) } },
          });
        await s.ns.apply(
          clusterManifest('stale', { replicas: 2, masterPorts: [{ name: 'rpc', port: 7078, targetPort: 7077 }] }),
        );
        // Worker 1 replaced by the older operator after the change: wired to the new port.
        await s.ns.delete('pod', 'stale-worker-1');
        const moved = validateStoredCluster(await cc('stale')).value!;
        const w1 = buildWorkerPod(moved, 1, 2);
        w1.metadata!.labels!['compute.gaffer.dev/revision'] = templateOnly(w1);
        await s.ns.k(['create', '-f', '-'], toYaml(w1));
        kept = await s.ns.get('pod', 'stale-worker-1');
      } finally {
        await s.startOperator();
      }
      const addr = `stale-master.${s.ns.name}.svc:7078`;
      const done = await waitFor(
        'every pod wired to the new port and labelled with the current revision',
        async () => {
          const [cr, ps] = [await cc('stale'), live(await pods('stale'))];
          const current = (p: any) =>
            p.metadata.labels['compute.gaffer.dev/revision'] ===
            (p.metadata.labels['compute.gaffer.dev/role'] === 'master'
              ? cr.status?.revision?.master
              : cr.status?.revision?.workers);
          return ps.length === 3 && ps.every((p) => envOf(p).GAFFER_MASTER_ADDR === addr && current(p)) && ps;
        },
        60_000,
      );
      expect(
        podUids(done).filter((u) => before.includes(u)),
        'the master and worker 0 rolled',
      ).to.deep.equal([]);
      expect(podUids(done), 'worker 1 relabelled, not restarted').to.include(kept.metadata.uid);
    });
  });

  describe('operator restarts', () => {
    it('is crash safe: an operator killed mid scale-up and restarted makes no duplicates or orphans', async () => {
      // The kill must land mid scale-up: this operator creates at most ~10 pods/s (with the default
      // limits, 200/s and a burst of 400, all 40 would be created before the kill).
      await s.op.stop();
      s.op = new OperatorProcess([
        '--leader-elect=false',
        '--namespaces',
        s.ns.name,
        '--kube-api-qps=10',
        '--kube-api-burst=2',
      ]);
      await s.op.started();
      await create('crashy', { replicas: 1 });
      await scale('crashy', 40);
      await waitFor('scale-up under way', async () => live(await pods('crashy', 'worker')).length > 1, 30_000, 20);
      s.op.signal('SIGKILL');
      await s.op.wait();
      const midway = live(await pods('crashy', 'worker')).length;
      await s.startOperator();
      const c = await ready('crashy', 120_000);
      const ws = live(await pods('crashy', 'worker'));
      expect(ws.map((p) => p.metadata.name).sort()).to.deep.equal(
        Array.from({ length: 40 }, (_, i) => `crashy-worker-${i}`).sort(),
      );
      expect(new Set(ws.map((p) => p.metadata.labels['compute.gaffer.dev/worker-index'])).size).to.equal(40);
      expect(ws.every((p) => p.metadata.ownerReferences?.[0]?.uid === c.metadata.uid)).to.equal(true);
      expect(midway, 'the kill should land mid scale-up').to.be.lessThan(40);
    });
  });

  describe('pods the API server refuses', () => {
    const replicaFailureCleared = (name: string, pred: (c: any) => boolean) =>
      s.ns.until(
        'computecluster',
        name,
        'ReplicaFailure cleared',
        (c) => cond(c, 'ReplicaFailure')?.status === 'False' && pred(c),
        60_000,
      );

    it('reports a pod the API server refuses as ReplicaFailure, backs off, and leaves running pods alone', async () => {
      await create('refused', { replicas: 1 });
      const running = podUids(await pods('refused'));
      await s.ns.k(['label', 'namespace', s.ns.name, 'pod-security.kubernetes.io/enforce=restricted']);
      try {
        await scale('refused', 3);
        const c = await s.ns.untilCondition('computecluster', 'refused', 'ReplicaFailure', 'True', 30_000);
        expect(cond(c, 'ReplicaFailure').message).to.match(/violates PodSecurity "restricted/);
        // This cluster's refused creates (one request each: a refusal ends the batch), as the
        // operator logs them; the request metric would count any other cluster's in the namespace.
        const key = `${s.ns.name}/refused`;
        const creates = () =>
          s.op.logs.filter((l) => l.key === key && l.message === 'the API server refused a pod').length;
        const n0 = creates();
        await sleep(8000);
        // Backoff, not a hot loop: initialSeconds 2 doubling gives at most a few tries in 8 s.
        expect(creates() - n0).to.be.lessThanOrEqual(3);
        expect(podUids(await pods('refused'))).to.deep.equal(running);
        // A compliant template is accepted and the failure clears.
        await s.ns.apply(clusterManifest('refused', { replicas: 3, secure: true }));
        await replicaFailureCleared('refused', (c) => c.status.workers.replicas === 3);
      } finally {
        await s.ns.k(['label', 'namespace', s.ns.name, 'pod-security.kubernetes.io/enforce-']);
      }
      // Its rollout ends before the next test caps the namespace's pods.
      await ready('refused');
      await s.ns.delete('computecluster', 'refused', '--wait=true');
    });

    it("reports a ResourceQuota refusal as ReplicaFailure with the server's message", async () => {
      // The quota counts this cluster's pods alone (a scope on their PriorityClass): pods of other
      // tests coming and going can never make room for one more (capping the namespace's count was
      // flaky twice: a terminating pod in the first count, then another cluster's churn).
      const pc = `gaffer-test-${s.ns.name}`;
      await apply({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: pc }, value: 0 });
      const scope = { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In', values: [pc] }] };
      try {
        const manifest = clusterManifest('quota', { replicas: 1 });
        manifest.spec.scheduling = { priorityClassName: pc };
        await s.ns.apply(manifest);
        await ready('quota');
        await s.ns.apply({
          apiVersion: 'v1',
          kind: 'ResourceQuota',
          metadata: { name: 'pods-cap' },
          spec: { hard: { pods: '2' }, scopeSelector: scope },
        });
        // The master and the worker: full.
        await s.ns.until('quota', 'pods-cap', 'counted', (q) => q.status?.used?.pods === '2');
        try {
          await scale('quota', 2);
          const c = await s.ns.untilCondition('computecluster', 'quota', 'ReplicaFailure', 'True', 30_000);
          expect(cond(c, 'ReplicaFailure').message).to.match(/exceeded quota: pods-cap/);
        } finally {
          await s.ns.delete('quota', 'pods-cap');
        }
        await replicaFailureCleared('quota', (c) => c.status.workers.readyReplicas === 2);
      } finally {
        await s.ns.delete('computecluster', 'quota', '--wait=true', '--ignore-not-found');
        await k(['delete', 'priorityclass', pc, '--ignore-not-found']);
      }
    });

    it("reports an invalid pod template as ReplicaFailure with the server's message", async () => {
      // The CRD accepts a container without an image (as PodTemplateSpec's schema does); pod validation does not.
      const noImage = clusterManifest('noimage', { replicas: 1 });
      delete noImage.spec.workers.template.spec.containers[0].image;
      await s.ns.apply(noImage);
      // The master is accepted and runs; only the workers are refused.
      const c = await s.ns.until(
        'computecluster',
        'noimage',
        'invalid template ReplicaFailure',
        (c) => cond(c, 'ReplicaFailure')?.status === 'True' && c.status.master.ready,
        30_000,
      );
      expect(cond(c, 'ReplicaFailure').message).to.include('spec.containers[0].image: Required value');
      expect(c.status.workers.replicas).to.equal(0);
    });
  });

  describe('retried deletes and pods of the same name (issue 11)', () => {
    /**
     * The operator's refused (4xx) DELETEs of these pods, from the audit log: by name, since the
     * operator also tends what earlier tests left in this namespace.
     */
    const refusedDeletes = (podNames: string[]) =>
      readDeletions(AUDIT_LOG, [s.ns.name]).filter(
        (d) => d.who === 'gaffer-system:gaffer' && podNames.includes(d.pod) && d.code >= 400 && d.code < 500,
      ).length;

    /** Runs `fn` while a ValidatingAdmissionPolicy refuses every DELETE of these pods in the test namespace. */
    const whileDeletesRefused = <T>(name: string, podNames: [string, ...string[]], fn: () => Promise<T>) =>
      whileRefused(
        {
          name,
          namespace: s.ns.name,
          rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['DELETE'], resources: ['pods'] }],
          allow: `!(oldObject.metadata.name in ${JSON.stringify(podNames)})`,
          message: 'refused by the test',
          // In force once a server-side dry run of the delete is refused.
          inForce: async () => (await s.ns.run(['delete', 'pod', podNames[0], '--dry-run=server'])).code !== 0,
        },
        fn,
      );

    it('re-issues the refused delete of a failed master and worker without counting them again (#1)', async () => {
      const c0 = await create('intent', {
        replicas: 1,
        failurePolicy: { action: 'RecreateMaster', maxRestarts: 1, windowSeconds: 600 },
        recovery: { backoff: { initialSeconds: 1, maxSeconds: 2 } },
      });
      const worker0 = (await s.ns.get('pod', 'intent-worker-0')).metadata.uid;
      await whileDeletesRefused('gaffer-test-intent', ['intent-master', 'intent-worker-0'], async () => {
        await failPod('intent-master');
        await failPod('intent-worker-0');
        // Both losses are recorded (the worker's after the backoff that the master's started)...
        await s.ns.until(
          'computecluster',
          'intent',
          'both losses recorded',
          (c) => c.status.recovery?.podsReplaced >= 2,
        );
        // ...and the refused deletes are retried after that.
        const intentPods = ['intent-master', 'intent-worker-0'];
        const recorded = refusedDeletes(intentPods);
        await waitFor('the deletes retried', async () => refusedDeletes(intentPods) - recorded >= 2, 60_000);
        const c = await cc('intent');
        expect(
          cond(c, 'Stalled')?.status,
          `Stalled while retrying the first restart: ${cond(c, 'Stalled')?.message}`,
        ).to.equal('False');
        expect(c.status.master.restarts, 'master restarts counted while retrying').to.equal(1);
        expect(c.status.recovery.podsReplaced, 'replacements counted while retrying').to.equal(2);
      });
      const c1 = await masterChanged('intent', c0.status.master.uid, 60_000);
      await waitFor(
        'worker 0 replaced',
        async () => live(await pods('intent', 'worker')).some((p) => p.metadata.uid !== worker0),
        60_000,
      );
      const c2 = await ready('intent');
      expect(c1.status.master.restarts).to.equal(1);
      expect(c2.status.recovery.podsReplaced).to.equal(2);
      expect(c2.status.recovery.masterRestartTimes).to.have.length(1);
      expect(cond(c2, 'Stalled').status).to.equal('False');
    });

    it('deletes one worker on a scale-down even when the cache lags its own delete (#13)', async () => {
      // The operator talks through the fault proxy, which can hold the pods watch (a stale cache).
      await throughFaultProxy(async (proxy) => {
        await create('lag', { replicas: 5 });
        const uids = new Map(live(await pods('lag', 'worker')).map((p) => [p.metadata.name, p.metadata.uid]));
        const podsWatch = (r: SeenRequest) => r.watch && r.path.endsWith('/pods');
        // Freeze the operator's pod cache: its watch ends and every new one is held.
        proxy.fault = (r) => (podsWatch(r) ? { kind: 'hold' } : undefined);
        proxy.cutWhere(podsWatch);
        // Worker 1 stops being Ready (a crash, restarted only in 10 minutes); the cache does not see it yet.
        await crashLoop('lag-worker-1', '600s');
        await s.ns.until('pod', 'lag-worker-1', 'not Ready', (p) => cond(p, 'Ready')?.status === 'False');
        // Scale 5 -> 4: the operator deletes worker 4, the highest index (all are Ready in its cache).
        await scale('lag', 4);
        const deletes = () =>
          proxy.seen
            .filter((r) => r.method === 'DELETE' && r.path.includes('/pods/lag-'))
            .map((r) => r.path.split('/').pop());
        await waitFor('worker 4 deleted', async () => deletes().includes('lag-worker-4'), 30_000);
        // The cache catches up to worker 1 being not Ready, but not to its own delete of worker 4.
        let delivered = false;
        const upToWorker1 = (e: { type: string; object: any }) =>
          e.object?.metadata?.name === 'lag-worker-1' && cond(e.object, 'Ready')?.status === 'False';
        let once = false;
        proxy.fault = (r) => {
          if (!podsWatch(r)) return undefined;
          if (once) return { kind: 'hold' };
          once = true;
          return { kind: 'endAfterEvent', until: upToWorker1, ended: () => (delivered = true) };
        };
        proxy.cutWhere(podsWatch);
        await waitFor('the cache shows worker 1 not Ready', async () => delivered, 30_000);
        // A reconcile that trusts this cache sees 5 workers, one not Ready, for 4 wanted.
        await sleep(5000);
        proxy.fault = () => undefined;
        proxy.cutWhere(podsWatch);
        await s.ns.until('computecluster', 'lag', 'scaled to 4', (c) => c.status.workers.replicas === 4, 60_000);
        await sleep(3000);
        // The same delete may be sent again (a retry); no other pod may be deleted.
        expect([...new Set(deletes())], 'pods the operator deleted').to.deep.equal(['lag-worker-4']);
        const ws = live(await pods('lag', 'worker'));
        expect(ws.map((p) => [p.metadata.name, p.metadata.uid]).sort()).to.deep.equal(
          [0, 1, 2, 3].map((i) => [`lag-worker-${i}`, uids.get(`lag-worker-${i}`)]),
        );
      });
    });

    it('does not put back the uid of a master whose delete the cache does not show yet, so its loss is not counted (soak)', async () => {
      await throughFaultProxy(async (proxy) => {
        const c0 = await create('retire', { replicas: 1 });
        const oldUid = c0.status.master.uid;
        const podsWatch = (r: SeenRequest) => r.watch && r.path.endsWith('/pods');
        // Freeze the operator's pod cache: its watch ends and every new one is held.
        proxy.fault = (r) => (podsWatch(r) ? { kind: 'hold' } : undefined);
        proxy.cutWhere(podsWatch);
        // A master template change: the operator deletes the master (not a failure) and clears its uid.
        await s.ns.apply(clusterManifest('retire', { replicas: 1, masterAnnotations: { touched: 'v2' } }));
        const deleted = () => proxy.seen.some((r) => r.method === 'DELETE' && r.path.endsWith('/pods/retire-master'));
        await waitFor('the master deleted', async () => deleted(), 30_000);
        // More reconciles while the cache still shows the old master: each holds its pod writes
        // (expectations), but writes status; none may record the old master's uid again.
        for (const replicas of [2, 1]) {
          await scale('retire', replicas);
          await sleep(2000);
          const c = await cc('retire');
          expect(c.status.master.uid, 'status.master.uid while the delete is not seen').to.not.equal(oldUid);
        }
        proxy.fault = () => undefined;
        proxy.cutWhere(podsWatch);
        const c1 = await masterChanged('retire', oldUid);
        await ready('retire');
        expect(c1.status.master.restarts, 'a template change counted as a master loss').to.equal(0);
        const c2 = await cc('retire');
        expect(c2.status.master.restarts).to.equal(0);
        expect(c2.status.recovery?.podsReplaced ?? 0).to.equal(0);
      });
    });

    it('adopts orphaned pods that match, and reports a foreign pod holding a name as PodConflict (#14)', async () => {
      const c0 = await create('adopt', { replicas: 2 });
      const uids = podUids(await pods('adopt'));
      // Orphan the pods (the garbage collector removes their ownerReferences), as `kubectl delete --cascade=orphan`.
      await s.ns.delete('computecluster', 'adopt', '--cascade=orphan');
      await waitFor(
        'pods orphaned',
        async () => (await pods('adopt')).every((p) => !(p.metadata.ownerReferences ?? []).length),
        60_000,
      );
      // A pod that is not Gaffer's holds the name of worker 2.
      await s.ns.apply({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'adopt-worker-2', labels: { app: 'someone-else' } },
        spec: { containers: [{ name: 'c', image }] },
      });
      await s.ns.apply(clusterManifest('adopt', { replicas: 3 }));
      const conflict = await s.ns.until(
        'computecluster',
        'adopt',
        'PodConflict reported',
        (c) => cond(c, 'ReplicaFailure')?.reason === 'PodConflict',
        60_000,
      );
      expect(cond(conflict, 'ReplicaFailure').message).to.include('adopt-worker-2');
      expect(conflict.metadata.uid).to.not.equal(c0.metadata.uid);
      // The orphans are adopted as they are (same uids), with the new cluster as their controller.
      const adopted = await waitFor(
        'orphans adopted',
        async () => {
          const ps = (await pods('adopt')).filter((p) => uids.includes(p.metadata.uid));
          const owned = ps.filter((p) => p.metadata.ownerReferences?.[0]?.uid === conflict.metadata.uid);
          return owned.length === uids.length && owned;
        },
        60_000,
      );
      expect(adopted.every((p: any) => p.metadata.ownerReferences[0].controller === true)).to.equal(true);
      expect((await s.ns.events('PodConflict', 'adopt')).length).to.be.greaterThan(0);
      const master = await s.ns.until('computecluster', 'adopt', 'master ready', (c) => c.status.master.ready, 60_000);
      expect(uids).to.include(master.status.master.uid);
      // Once the foreign pod goes, worker 2 is created and the conflict clears.
      await s.ns.delete('pod', 'adopt-worker-2', '--grace-period=0', '--force');
      const c = await ready('adopt', 90_000);
      expect(cond(c, 'ReplicaFailure').status).to.equal('False');
      const ws = live(await pods('adopt', 'worker'));
      expect(ws.map((p) => p.metadata.name).sort()).to.deep.equal([
        'adopt-worker-0',
        'adopt-worker-1',
        'adopt-worker-2',
      ]);
      expect(ws.every((p) => p.metadata.ownerReferences?.[0]?.uid === c.metadata.uid)).to.equal(true);
    });
  });

  describe("the operator's watches in steady state (issue 11 #10)", () => {
    /** A LIST: a GET of a collection (/api/v1[/namespaces/NS]/PLURAL, /apis/G/V[/namespaces/NS]/PLURAL). */
    const isList = (r: SeenRequest) => {
      const parts = r.path.split('/').filter(Boolean);
      const rest = parts.slice(parts[0] === 'api' ? 2 : 3);
      const collection = rest.length === 1 || (rest.length === 3 && rest[0] === 'namespaces');
      return r.method === 'GET' && !r.watch && collection;
    };
    const bookmarks = async (resource: string) =>
      (await s.op.metric('gaffer_watch_bookmarks_total', `resource="${resource}"`)) ?? 0;

    it('ask for bookmarks, receive them and stay open through more than a minute of quiet, with no LIST', async () => {
      // The API server sends a watch a BOOKMARK about every 60 s (k8s.io/apiserver's cacher,
      // defaultBookmarkFrequency: no flag shortens it), so the quiet window is 70 s from the last watch.
      await throughFaultProxy(async (proxy) => {
        await create('quiet', { replicas: 2 });
        // The API server sends a bookmark only once its cache of the resource has moved past where
        // the watch began: every watched kind gets a write after the watches opened (the cluster
        // wrote pods, Services and its status), ComputeJobs, Nodes (KWOK's heartbeats go to node
        // Leases: a node object may not change for minutes) and PodDisruptionBudgets too (this
        // cluster asks for none; without a write, a bookmark came only if the disruption
        // controller happened to update an earlier test's budget: seen failing once).
        const node = (await k(['get', 'nodes', '-o', 'name'])).trim().split('\n')[0]!;
        await k(['annotate', '--overwrite', node, `test.gaffer.dev/bookmark=${Date.now()}`]);
        await s.ns.k([
          'create',
          'poddisruptionbudget',
          'quiet-bookmark',
          '--selector=test.gaffer.dev/none=x',
          '--min-available=0',
        ]);
        await s.ns.apply({
          apiVersion: 'compute.gaffer.dev/v1alpha1',
          kind: 'ComputeJob',
          metadata: { name: 'quiet-job' },
          spec: {
            clusterRef: { name: 'quiet-nowhere' },
            template: {
              spec: { restartPolicy: 'Never', containers: [{ name: 'driver', image: 'registry.invalid/x:1' }] },
            },
          },
        });
        await s.ns.until('computejob', 'quiet-job', 'waiting', (j) => j.status?.phase === 'WaitingForCluster');
        const watches = proxy.seen.filter((r) => r.watch);
        const resources = [...new Set(watches.map((r) => r.path.split('/').pop()!))].sort();
        expect(resources).to.deep.equal([
          'computeclusters',
          'computejobs',
          'nodes',
          'poddisruptionbudgets',
          'pods',
          'services',
        ]);
        for (const w of watches) {
          expect(w.query.get('allowWatchBookmarks'), `${w.path} asks for bookmarks`).to.equal('true');
          expect(w.query.get('resourceVersion'), `${w.path} from the list's resourceVersion`).to.match(/^\d+$/);
        }
        const since = Date.now();
        await sleep(Math.max(...watches.map((r) => r.at)) + 70_000 - since);

        expect(proxy.count(isList, since), 'LISTs in the quiet window').to.equal(0);
        expect(
          proxy.count((r) => r.watch, since),
          'watches opened again in the quiet window',
        ).to.equal(0);
        const open = proxy.inFlight().filter((r) => r.watch);
        expect(open.length, 'the watches opened at start are all still open').to.equal(watches.length);
        for (const r of resources) expect(await bookmarks(r), `bookmarks on ${r}`).to.be.at.least(1);
        expect(await s.op.metric('gaffer_informer_restarts_total'), 'informer restarts').to.equal(undefined);
      });
    });
  });

  describe('Services the API server refuses (issue 11 #3)', () => {
    it("reports a refused Service as ServicesReady=False with the server's message and still makes the pods", async () => {
      await s.ns.k(['create', 'quota', 'no-lbs', '--hard=services.loadbalancers=0']);
      await s.ns.until('quota', 'no-lbs', 'counted', (q) => q.status?.hard?.['services.loadbalancers'] === '0');
      try {
        const recovery = { backoff: { initialSeconds: 1, maxSeconds: 2 } };
        await s.ns.apply(clusterManifest('lb', { replicas: 2, serviceType: 'LoadBalancer', recovery }));
        const c = await s.ns.until(
          'computecluster',
          'lb',
          'ServicesReady=False with the master and the workers up',
          (c) =>
            cond(c, 'ServicesReady')?.status === 'False' &&
            c.status.master?.ready &&
            c.status.workers?.readyReplicas === 2,
          60_000,
        );
        expect(cond(c, 'ServicesReady').reason).to.equal('ServiceRefused');
        expect(cond(c, 'ServicesReady').message).to.match(/Service lb-master: .*exceeded quota: no-lbs/);
        expect(cond(c, 'Ready')).to.include({ status: 'False', reason: 'ServiceRefused' });
        expect(await s.ns.events('ServiceRefused', 'lb')).to.not.be.empty;
        expect(await s.ns.exists('service', 'lb-workers')).to.equal(true);
      } finally {
        await s.ns.delete('quota', 'no-lbs');
      }
      // The retry (podRecovery.backoff) goes through once the quota is gone.
      const c = await ready('lb');
      expect(cond(c, 'ServicesReady').status).to.equal('True');
      expect((await s.ns.get('service', 'lb-master')).spec.type).to.equal('LoadBalancer');
    });
  });

  describe('deletion', () => {
    it('deletes everything through the garbage collector when the ComputeCluster is deleted', async () => {
      await s.ns.delete('computecluster', 'alpha');
      await waitFor(
        'pods and services gone',
        async () =>
          (await pods('alpha')).length === 0 &&
          !(await s.ns.exists('svc', 'alpha-master')) &&
          !(await s.ns.exists('svc', 'alpha-workers')),
        60_000,
      );
    });
  });
});

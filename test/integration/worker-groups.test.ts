// spec.workerGroups, spec.scheduling and the disruption budgets on the real control plane: the
// scheduler binds the pods, the priority admission plugin resolves the PriorityClass, and the
// disruption controller (kube-controller-manager) and the Eviction API enforce the budgets.
import { expect } from 'chai';
import { apply, cond, envOf, k, live, podNames, setup, sleep, waitFor, whileRefused } from './harness.ts';
import {
  COSCHEDULER_NAME,
  installGangCrds,
  removeGangCrds,
  startCoscheduler,
  type RunningScheduler,
} from '../../hack/gang-schedulers.ts';

const image = 'registry.invalid/compute:1';
const container = (name: string, ports: number[] = []) => ({
  name,
  image,
  ...(ports.length ? { ports: ports.map((p) => ({ name: `p${p}`, containerPort: p })) } : {}),
});

/** A cluster with `workers` default workers and the given groups (and spec fields in `extra`). */
function manifest(name: string, workers: number, groups: any[] | undefined, extra: Record<string, any> = {}) {
  const { master, workersExtra, ...rest } = extra;
  return {
    apiVersion: 'compute.gaffer.dev/v1alpha1',
    kind: 'ComputeCluster',
    metadata: { name },
    spec: {
      master: { template: { spec: { containers: [container('master', [7077])] } }, ...(master ?? {}) },
      workers: {
        replicas: workers,
        template: { spec: { containers: [container('worker')] } },
        ...(workersExtra ?? {}),
      },
      ...(groups ? { workerGroups: groups } : {}),
      podRecovery: { backoff: { initialSeconds: 2, maxSeconds: 10 } },
      ...rest,
    },
  };
}
const gpu = (replicas: number, extra: Record<string, any> = {}) => ({
  name: 'gpu',
  replicas,
  template: { metadata: { labels: { accel: 'gpu' } }, spec: { containers: [container('trainer', [9000])] } },
  ...extra,
});

describe('ComputeCluster worker groups, scheduling and disruption budgets', function () {
  this.timeout(240_000);
  const s = setup('wg', { operator: ['--resync-period', '1m'] });
  const priorityClass = `gaffer-test-${Date.now()}`;

  const pods = async (cluster: string, selector = '') =>
    live(await s.ns.list('pods', `compute.gaffer.dev/cluster=${cluster}${selector}`));
  const ready = (name: string, what = 'Ready', extra: (c: any) => boolean = () => true, timeout = 90_000) =>
    s.ns.until(
      'computecluster',
      name,
      what,
      (c) => cond(c, 'Ready')?.status === 'True' && c.status.observedGeneration === c.metadata.generation && extra(c),
      timeout,
    );
  /** POST of an Eviction for the pod: exit code 0 when the API server allowed it. */
  const evict = (pod: string) =>
    s.ns.run(
      ['create', '--raw', `/api/v1/namespaces/${s.ns.name}/pods/${pod}/eviction`, '-f', '-'],
      JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace: s.ns.name } }),
    );

  /** A gang of the master and `workers` workers of 20 CPUs each (a fake node of 32 CPUs holds one). */
  const gangOf = (name: string, workers: number, gang: Record<string, any> = {}) =>
    manifest(name, workers, undefined, {
      scheduling: { gang: { minMember: 'AllReplicas', timeoutSeconds: 5, ...gang } },
      workersExtra: {
        template: {
          spec: { containers: [{ ...container('worker'), resources: { requests: { cpu: '20' } } }] },
        },
      },
    });
  const gang = (name: string, workers: number) => gangOf(name, workers);
  /**
   * Applies a gang of `workers` too many for the nodes, waits for the scheduler's own reason past
   * timeoutSeconds (GangTimeout until it has written one), and checks that no pod was bound
   * (each fits a node on its own: a scheduler without the gang would bind one worker per node).
   */
  const unplaced = async (name: string, workers: number, gang: Record<string, any> = {}) => {
    await s.ns.apply(gangOf(name, workers, gang));
    const c = await s.ns.until(
      'computecluster',
      name,
      "Scheduled=False with the scheduler's reason",
      (x) => cond(x, 'Scheduled')?.reason === 'Unschedulable',
      90_000,
    );
    const all = await pods(name);
    expect(all).to.have.length(workers + 1);
    expect(all.filter((p) => p.spec.nodeName).map((p) => p.metadata.name)).to.deep.equal([]);
    expect(cond(c, 'Scheduled').message).to.match(/^0 of the gang's \d+ pod\(s\) bound/);
    return { c, all };
  };

  before(async () => {
    await apply({
      apiVersion: 'scheduling.k8s.io/v1',
      kind: 'PriorityClass',
      metadata: { name: priorityClass },
      value: 1000,
      description: 'worker-groups test',
    });
  });
  after(async () => {
    await k(['delete', 'priorityclass', priorityClass, '--ignore-not-found']);
  });

  describe('a cluster with a CPU default group and a gpu group', () => {
    let c: any;
    before(async () => {
      await s.ns.apply(
        manifest('mixed', 1, [gpu(2)], {
          scheduling: { schedulerName: 'default-scheduler', priorityClassName: priorityClass },
        }),
      );
      c = await ready('mixed');
    });

    it("names each group's workers <cluster>-<group>-<index> and wires them per group", async () => {
      const workers = await pods('mixed', ',compute.gaffer.dev/role=worker');
      expect(podNames(workers)).to.deep.equal(['mixed-gpu-0', 'mixed-gpu-1', 'mixed-worker-0']);
      const g1 = workers.find((p) => p.metadata.name === 'mixed-gpu-1');
      expect(g1.metadata.labels).to.include({ 'compute.gaffer.dev/worker-group': 'gpu', accel: 'gpu' });
      expect(envOf(g1)).to.include({ GAFFER_WORKER_GROUP: 'gpu', GAFFER_WORKER_INDEX: '1', GAFFER_WORKERS: '2' });
      expect(g1.spec).to.include({ hostname: 'mixed-gpu-1', subdomain: 'mixed-workers' });
      const w0 = workers.find((p) => p.metadata.name === 'mixed-worker-0');
      expect(envOf(w0)).to.include({ GAFFER_WORKER_GROUP: 'worker', GAFFER_WORKER_INDEX: '0', GAFFER_WORKERS: '1' });
      expect(w0.spec.containers[0].name).to.equal('worker');
      expect(g1.spec.containers[0].name).to.equal('trainer');
    });

    it('schedules every pod with spec.scheduling: the scheduler bound them, the PriorityClass was resolved', async () => {
      for (const p of await pods('mixed')) {
        expect(p.spec, p.metadata.name).to.include({
          schedulerName: 'default-scheduler',
          priorityClassName: priorityClass,
          priority: 1000,
        });
        expect(p.spec.nodeName, p.metadata.name).to.be.a('string');
      }
    });

    it('reports the default group in status.workers, the gpu group in status.workerGroups, all in summary', () => {
      expect(c.status.workers).to.include({ replicas: 1, readyReplicas: 1, summary: '3/3' });
      expect(c.status.workerGroups).to.have.length(1);
      expect(c.status.workerGroups[0]).to.include({ name: 'gpu', replicas: 2, desiredReplicas: 2, readyReplicas: 2 });
    });

    it('covers every group with the headless Service, and the scale subresource selects the default group only', async () => {
      const svc = await s.ns.get('svc', 'mixed-workers');
      expect(svc.spec.ports.map((p: any) => p.port)).to.include(9000);
      const selected = await s.ns.list('pods', c.status.workers.selector);
      expect(podNames(live(selected))).to.deep.equal(['mixed-worker-0']);
    });

    it('scales one group without touching the others; kubectl scale moves the default group only', async () => {
      const before = await pods('mixed', ',compute.gaffer.dev/role=worker');
      const uid = (n: string) => before.find((p) => p.metadata.name === n)?.metadata.uid;
      await s.ns.patch('computecluster', 'mixed', { spec: { workerGroups: [gpu(1)] } });
      await s.ns.scale('computecluster', 'mixed', 2);
      await ready('mixed', 'scaled', (x) => x.status.workers.replicas === 2 && x.status.workerGroups[0].replicas === 1);
      const after = await pods('mixed', ',compute.gaffer.dev/role=worker');
      expect(podNames(after)).to.deep.equal(['mixed-gpu-0', 'mixed-worker-0', 'mixed-worker-1']);
      for (const n of ['mixed-gpu-0', 'mixed-worker-0'])
        expect(after.find((p) => p.metadata.name === n).metadata.uid, n).to.equal(uid(n));
    });

    it('deletes the workers of a group taken out of the spec, and its status entry', async () => {
      await s.ns.k([
        'patch',
        'computecluster',
        'mixed',
        '--type=json',
        '-p',
        '[{"op":"remove","path":"/spec/workerGroups"}]',
      ]);
      const x = await ready('mixed', 'without groups', (o) => !o.status.workerGroups);
      await waitFor(
        'the gpu workers gone',
        async () => (await pods('mixed', ',compute.gaffer.dev/worker-group=gpu')).length === 0,
      );
      expect(x.status.workers.summary).to.equal('2/2');
      expect((await s.ns.events('WorkerGroupRemoved')).length).to.equal(0); // a deletion, not a warning
    });
  });

  describe('disruption budgets', () => {
    const budgets = async () =>
      (await s.ns.list('pdb')).filter((b) => b.metadata.labels['compute.gaffer.dev/cluster'] === 'guarded');
    const mem = (replicas: number, extra: Record<string, any>) => ({ ...gpu(replicas, extra), name: 'mem' });

    before(async () => {
      // Three groups of different sizes: each budget must count its own group's pods (with
      // maxUnavailable the disruption controller would size every one by spec.workers.replicas).
      await s.ns.apply(
        manifest(
          'guarded',
          3,
          [gpu(2, { disruptionBudget: { maxUnavailable: 0 } }), mem(1, { disruptionBudget: { maxUnavailable: 1 } })],
          {
            master: { disruptionBudget: {} },
            workersExtra: { disruptionBudget: { maxUnavailable: 1 } },
          },
        ),
      );
      await ready('guarded');
      await waitFor(
        'the budgets counted by the disruption controller',
        async () => {
          const bs = await budgets();
          const st = (n: string) => bs.find((b) => b.metadata.name === n)?.status ?? {};
          return (
            bs.length === 4 &&
            st('guarded-master').expectedPods === 1 &&
            st('guarded-worker').expectedPods === 3 &&
            st('guarded-worker').disruptionsAllowed === 1 &&
            st('guarded-gpu').expectedPods === 2 &&
            st('guarded-mem').expectedPods === 1 &&
            st('guarded-mem').disruptionsAllowed === 1
          );
        },
        60_000,
      );
    });

    it('owns a budget per role that asks for one, over the right pods', async () => {
      const c = await s.ns.get('computecluster', 'guarded');
      for (const b of await budgets()) {
        expect(b.metadata.ownerReferences[0], b.metadata.name).to.include({ uid: c.metadata.uid, controller: true });
      }
      expect(cond(c, 'DisruptionBudgetsReady')).to.include({ status: 'True', reason: 'BudgetsApplied' });
    });

    it('refuses (429) evicting the master and a worker whose budget allows none', async () => {
      const uids = async () => (await pods('guarded')).map((p) => p.metadata.uid).sort();
      const before = await uids();
      for (const pod of ['guarded-master', 'guarded-gpu-0']) {
        const r = await evict(pod);
        expect(r.code, `${pod}: ${r.stdout}${r.stderr}`).to.not.equal(0);
        expect(r.stderr + r.stdout).to.match(/disruption budget/i);
      }
      expect(await uids()).to.deep.equal(before);
    });

    for (const pod of ['guarded-mem-0', 'guarded-worker-0'])
      it(`allows evicting ${pod}, as its budget permits, and the evicted worker is replaced`, async () => {
        const [w] = (await pods('guarded')).filter((p) => p.metadata.name === pod);
        const r = await evict(pod);
        expect(r.code, r.stderr).to.equal(0);
        await waitFor(`${pod} replaced`, async () => {
          const now = (await pods('guarded')).find((p) => p.metadata.name === pod);
          return !!now && now.metadata.uid !== w.metadata.uid;
        });
        await ready('guarded', 'Ready again', (c) => c.status.workers.readyReplicas === 3);
      });

    it('deletes a budget turned off, and keeps the others', async () => {
      await s.ns.patch('computecluster', 'guarded', {
        spec: { master: { disruptionBudget: { enabled: false } }, workers: { disruptionBudget: null } },
      });
      await waitFor(
        'the gpu and mem budgets left',
        async () => podNames(await budgets()).join() === 'guarded-gpu,guarded-mem',
      );
      const c = await ready(
        'guarded',
        'budgets applied',
        (x) => cond(x, 'DisruptionBudgetsReady')?.observedGeneration === x.metadata.generation,
      );
      expect(cond(c, 'DisruptionBudgetsReady').message).to.equal('2 PodDisruptionBudget(s) applied');
    });

    it("never takes over a budget of the same name that is not Gaffer's: reports it, and leaves it as it is", async () => {
      const mine = {
        apiVersion: 'policy/v1',
        kind: 'PodDisruptionBudget',
        metadata: { name: 'guarded-master' },
        spec: { maxUnavailable: 1, selector: { matchLabels: { team: 'other' } } },
      };
      await s.ns.apply(mine);
      await s.ns.patch('computecluster', 'guarded', { spec: { master: { disruptionBudget: { enabled: true } } } });
      const c = await s.ns.until(
        'computecluster',
        'guarded',
        'DisruptionBudgetsReady=False',
        (x) => cond(x, 'DisruptionBudgetsReady')?.status === 'False',
      );
      expect(cond(c, 'DisruptionBudgetsReady').message).to.contain("guarded-master exists and is not Gaffer's");
      const b = await s.ns.get('pdb', 'guarded-master');
      expect(b.spec.selector).to.deep.equal({ matchLabels: { team: 'other' } });
      expect(b.metadata.ownerReferences ?? []).to.deep.equal([]);
      await s.ns.delete('pdb', 'guarded-master');
      await s.ns.untilCondition('computecluster', 'guarded', 'DisruptionBudgetsReady', 'True', 60_000);
      const ours = await s.ns.get('pdb', 'guarded-master');
      expect(ours.spec.minAvailable).to.equal(1);
    });

    it('reports a budget the API server refuses with its message, runs the pods anyway, and applies it once allowed', async () => {
      const probe = {
        apiVersion: 'policy/v1',
        kind: 'PodDisruptionBudget',
        metadata: { name: 'probe' },
        spec: { maxUnavailable: 1 },
      };
      const refusal = {
        name: `refuse-pdb-${s.ns.name}`,
        namespace: s.ns.name,
        rules: [
          { apiGroups: ['policy'], apiVersions: ['v1'], operations: ['CREATE'], resources: ['poddisruptionbudgets'] },
        ],
        allow: 'false',
        message: 'budgets refused by the test',
        inForce: async () =>
          (await s.ns.run(['create', '--dry-run=server', '-f', '-'], JSON.stringify(probe))).code !== 0,
      };
      await whileRefused(refusal, async () => {
        await s.ns.apply(manifest('refused', 1, undefined, { master: { disruptionBudget: {} } }));
        const c = await s.ns.until(
          'computecluster',
          'refused',
          'DisruptionBudgetsReady=False',
          (x) => cond(x, 'DisruptionBudgetsReady')?.status === 'False' && cond(x, 'Ready')?.status === 'True',
          90_000,
        );
        expect(cond(c, 'DisruptionBudgetsReady').reason).to.equal('BudgetRefused');
        expect(cond(c, 'DisruptionBudgetsReady').message).to.contain('budgets refused by the test');
        expect((await s.ns.events('BudgetRefused', 'refused')).length).to.be.greaterThan(0);
        expect(await s.ns.exists('pdb', 'refused-master')).to.equal(false);
      });
      await s.ns.untilCondition('computecluster', 'refused', 'DisruptionBudgetsReady', 'True', 60_000);
      expect(await s.ns.exists('pdb', 'refused-master')).to.equal(true);
    });
  });

  describe('gang scheduling (kube-scheduler PodGroups, scheduling.k8s.io/v1beta1)', () => {
    let nodeCount = 0;
    before(async () => {
      nodeCount = (await s.ns.list('nodes')).length;
    });

    it('binds no pod of a gang too big for the nodes, and says why once timeoutSeconds pass', async () => {
      const { c, all } = await unplaced('toobig', nodeCount + 1);
      for (const p of all) expect(p.spec.schedulingGroup, p.metadata.name).to.deep.equal({ podGroupName: 'toobig' });
      expect(cond(c, 'Scheduled').message).to.match(/minCount \(\d+\) cannot be satisfied/);
      const group = await s.ns.get('podgroups.scheduling.k8s.io', 'toobig');
      expect(group.spec.schedulingPolicy.gang.minCount).to.equal(nodeCount + 2);
      expect(group.metadata.ownerReferences[0]).to.include({
        kind: 'ComputeCluster',
        name: 'toobig',
        controller: true,
      });
      await s.ns.delete('computecluster', 'toobig');
    });

    it('binds every pod of a gang that fits, and reports it Scheduled', async () => {
      await s.ns.apply(gang('fits', nodeCount - 1));
      const c = await ready('fits', 'Ready', (x) => cond(x, 'Scheduled')?.status === 'True');
      expect(cond(c, 'Scheduled').reason).to.equal('GangScheduled');
      const all = await pods('fits');
      expect(all).to.have.length(nodeCount);
      for (const p of all) expect(p.spec.nodeName, p.metadata.name).to.be.a('string');
    });

    it('leaves alone a PodGroup whose priority admission filled in (a default PriorityClass), across an operator restart', async () => {
      const name = `gaffer-test-default-${Date.now()}`;
      await apply({
        apiVersion: 'scheduling.k8s.io/v1',
        kind: 'PriorityClass',
        metadata: { name },
        value: 10,
        globalDefault: true,
        description: 'worker-groups test: a cluster-wide default',
      });
      try {
        await s.ns.apply(gang('defprio', 1));
        await ready('defprio', 'Ready', (x) => cond(x, 'Scheduled')?.status === 'True');
        const before = await s.ns.get('podgroups.scheduling.k8s.io', 'defprio');
        expect(before.spec.priorityClassName, 'filled in by admission').to.equal(name);
        // A new process reads the PodGroup again: it must not take the default for a change.
        await s.op.stop();
        await s.startOperator();
        await sleep(8000);
        const after = await s.ns.get('podgroups.scheduling.k8s.io', 'defprio');
        expect(after.metadata.uid, 'the PodGroup was made again').to.equal(before.metadata.uid);
        expect(s.op.logs.filter((l) => /deleted the gang PodGroup/.test(l.message ?? ''))).to.deep.equal([]);
        await s.ns.delete('computecluster', 'defprio');
      } finally {
        await k(['delete', 'priorityclass', name, '--ignore-not-found']);
      }
    });

    it('binds the replacement of a failed worker of a placed gang (the gang counts its bound pods)', async () => {
      const [w] = (await pods('fits')).filter((p) => p.metadata.name === 'fits-worker-0');
      await s.ns.annotate('pod', 'fits-worker-0', { 'sim.gaffer.dev/fail-after': '0s' });
      await waitFor('fits-worker-0 replaced and bound', async () => {
        const now = (await pods('fits')).find((p) => p.metadata.name === 'fits-worker-0');
        return !!now && now.metadata.uid !== w.metadata.uid && !!now.spec.nodeName;
      });
      const c = await ready('fits', 'Ready again', (x) => cond(x, 'Scheduled')?.status === 'True');
      expect(c.status.recovery.podsReplaced).to.equal(1);
    });
  });

  describe("gang scheduling by other projects' schedulers (scheduler-plugins' Coscheduling, Volcano)", () => {
    let nodeCount = 0;
    let scheduler: RunningScheduler | undefined;
    before(async () => {
      nodeCount = (await s.ns.list('nodes')).length;
      // The kube-scheduler gangs above hold a node each: these need them all.
      await s.ns.delete('computecluster', 'fits', '--ignore-not-found');
      await waitFor(
        'the pods of fits gone',
        async () => (await s.ns.list('pods', 'compute.gaffer.dev/cluster=fits')).length === 0,
      );
    });
    after(async () => {
      await scheduler?.stop();
      await removeGangCrds();
    });

    it("says that the provider's PodGroups are not served, and creates the pods anyway", async () => {
      await s.ns.apply(gangOf('unserved', 1, { provider: 'Coscheduling' }));
      const c = await s.ns.until(
        'computecluster',
        'unserved',
        'PodGroupRefused',
        (x) => cond(x, 'Scheduled')?.reason === 'PodGroupRefused',
      );
      expect(cond(c, 'Scheduled').message).to.match(/does not serve scheduling.x-k8s.io\/v1alpha1 PodGroups/);
      await waitFor('the pods created', async () => (await pods('unserved')).length === 2);
      await s.ns.delete('computecluster', 'unserved');
    });

    it('holds the rollout when moved to a provider that is not installed, keeps the PodGroup in use, and is back at once when moved back', async () => {
      await s.ns.apply(gangOf('switch', 1, { provider: 'Kubernetes' }));
      await ready('switch', 'Ready', (x) => cond(x, 'Scheduled')?.status === 'True');
      const uids = (await pods('switch')).map((p) => p.metadata.uid).sort();
      const group = (await s.ns.get('podgroups.scheduling.k8s.io', 'switch')).metadata.uid;
      await s.ns.apply(gangOf('switch', 1, { provider: 'Coscheduling' }));
      await s.ns.until(
        'computecluster',
        'switch',
        'PodGroupRefused',
        (x) => cond(x, 'Scheduled')?.reason === 'PodGroupRefused',
      );
      await sleep(5000);
      // Nothing rolled onto a gang nothing places, and the PodGroup the pods use is still there.
      expect((await pods('switch')).map((p) => p.metadata.uid).sort(), 'pods').to.deep.equal(uids);
      expect((await s.ns.get('podgroups.scheduling.k8s.io', 'switch')).metadata.uid, 'PodGroup').to.equal(group);
      await s.ns.apply(gangOf('switch', 1, { provider: 'Kubernetes' }));
      await ready('switch', 'Scheduled again', (x) => cond(x, 'Scheduled')?.status === 'True', 30_000);
      expect((await pods('switch')).map((p) => p.metadata.uid).sort(), 'pods').to.deep.equal(uids);
      expect((await s.ns.get('podgroups.scheduling.k8s.io', 'switch')).metadata.uid, 'PodGroup').to.equal(group);
      await s.ns.delete('computecluster', 'switch');
    });

    describe("Coscheduling: scheduler-plugins' scheduler, built from its Go module, beside kube-scheduler", () => {
      before(async () => {
        await installGangCrds();
        scheduler = await startCoscheduler();
      });

      it('binds no pod of a gang too big for the nodes, and says why once timeoutSeconds pass', async () => {
        const { c, all } = await unplaced('cotoobig', nodeCount + 1, { provider: 'Coscheduling' });
        for (const p of all) {
          expect(p.metadata.labels['scheduling.x-k8s.io/pod-group'], p.metadata.name).to.equal('cotoobig');
          expect(p.spec.schedulerName, p.metadata.name).to.equal(COSCHEDULER_NAME);
        }
        // Coscheduling's own word: its minResources check ("resource gap"), or its PostFilter rejecting the group.
        const why = cond(c, 'Scheduled').message;
        expect(why, why).to.match(/after timeoutSeconds 5: .*(resource gap|PodGroup|sibling|rejection in PostFilter)/);
        const group = await s.ns.get('podgroups.scheduling.x-k8s.io', 'cotoobig');
        expect(group.spec).to.deep.equal({
          minMember: nodeCount + 2,
          minResources: { cpu: String(20 * (nodeCount + 1)) },
          scheduleTimeoutSeconds: 5,
        });
        expect(group.metadata.ownerReferences[0]).to.include({
          kind: 'ComputeCluster',
          name: 'cotoobig',
          controller: true,
        });
        await s.ns.delete('computecluster', 'cotoobig');
      });

      it('binds every pod of a gang that fits, through the second scheduler, and reports it Scheduled', async () => {
        await s.ns.apply(gangOf('cofits', nodeCount - 1, { provider: 'Coscheduling' }));
        const c = await ready('cofits', 'Ready', (x) => cond(x, 'Scheduled')?.status === 'True');
        expect(cond(c, 'Scheduled').reason).to.equal('GangScheduled');
        const all = await pods('cofits');
        expect(all).to.have.length(nodeCount);
        for (const p of all) expect(p.spec.nodeName, p.metadata.name).to.be.a('string');
        // Bound by scheduler-plugins' scheduler: its Scheduled events name it.
        const by = (await s.ns.events('Scheduled'))
          .filter((e) => e.regarding.name.startsWith('cofits-'))
          .map((e) => e.reportingController);
        expect(by).to.have.length(nodeCount);
        expect(new Set(by)).to.deep.equal(new Set([COSCHEDULER_NAME]));
        await s.ns.delete('computecluster', 'cofits');
      });
    });

    describe('Volcano: its PodGroup CRD, generated from its API module (no Volcano scheduler runs here)', () => {
      it('owns a Volcano PodGroup sized per task with the queue, and the pods join it; none is bound', async () => {
        await s.ns.apply(gangOf('vc', 2, { provider: 'Volcano', queue: 'research' }));
        const c = await s.ns.until(
          'computecluster',
          'vc',
          'GangTimeout (nothing schedules for volcano)',
          (x) => cond(x, 'Scheduled')?.reason === 'GangTimeout',
          60_000,
        );
        expect(cond(c, 'Scheduled').message).to.match(/^0 of the gang's 3 pod\(s\) bound/);
        // What survived the CRD's structural schema (unknown fields would have been pruned).
        const group = await s.ns.get('podgroups.scheduling.volcano.sh', 'vc');
        expect(group.spec).to.deep.equal({
          minMember: 3,
          minTaskMember: { master: 1, worker: 2 },
          minResources: { cpu: '40' },
          queue: 'research',
        });
        const all = await pods('vc');
        expect(all).to.have.length(3);
        for (const p of all) {
          expect(p.metadata.annotations['scheduling.k8s.io/group-name'], p.metadata.name).to.equal('vc');
          expect(p.spec.schedulerName).to.equal('volcano');
          expect(p.spec.nodeName).to.equal(undefined);
        }
        expect(all.map((p) => p.metadata.annotations['volcano.sh/task-spec']).sort()).to.deep.equal([
          'master',
          'worker',
          'worker',
        ]);
      });

      it("moved to the Kubernetes provider: the Volcano PodGroup goes, kube-scheduler's comes, the pods roll and bind", async () => {
        const before = await s.ns.get('podgroups.scheduling.volcano.sh', 'vc');
        await s.ns.apply(gangOf('vc', 2, { provider: 'Kubernetes' }));
        await ready('vc', 'Ready', (x) => cond(x, 'Scheduled')?.status === 'True');
        await waitFor(
          'the Volcano PodGroup deleted',
          async () => (await s.ns.run(['get', 'podgroups.scheduling.volcano.sh', 'vc'])).code !== 0,
        );
        const group = await s.ns.get('podgroups.scheduling.k8s.io', 'vc');
        expect(group.spec.schedulingPolicy.gang.minCount).to.equal(3);
        expect(before.metadata.uid).to.be.a('string');
        for (const p of await pods('vc')) {
          expect(p.spec.schedulingGroup, p.metadata.name).to.deep.equal({ podGroupName: 'vc' });
          expect(p.metadata.annotations?.['scheduling.k8s.io/group-name'], p.metadata.name).to.equal(undefined);
          expect(p.spec.nodeName, p.metadata.name).to.be.a('string');
        }
      });
    });
  });
});

// spec.master.disruptionBudget and the worker groups' disruptionBudget: the budgets built (pure).
import { expect } from 'chai';
import { budgetMatches, buildBudgets } from '../../src/builders/budgets.ts';
import { whyNotOurs } from '../../src/builders/owner.ts';
import { testCluster } from '../fixtures/specs.ts';

const cluster = (mut: (c: any) => void = () => {}) => testCluster(mut);
const gpu = { name: 'gpu', replicas: 2, template: { spec: { containers: [{ name: 'w', image: 'gpu:1' }] } } };
const base = { 'compute.gaffer.dev/cluster': 'c', 'compute.gaffer.dev/role': 'worker' };

const spec = (selector: object, minAvailable: number) => ({
  selector,
  minAvailable,
  unhealthyPodEvictionPolicy: 'AlwaysAllow',
});

describe('disruption budgets', () => {
  const cases: { name: string; mut: (c: any) => void; want: Record<string, unknown> }[] = [
    { name: 'none asked for', mut: () => {}, want: {} },
    {
      name: 'the master: minAvailable 1 over the master pod',
      mut: (c) => (c.spec.master.disruptionBudget = {}),
      want: {
        'c-master': spec(
          { matchLabels: { 'compute.gaffer.dev/cluster': 'c', 'compute.gaffer.dev/role': 'master' } },
          1,
        ),
      },
    },
    { name: 'the master turned off', mut: (c) => (c.spec.master.disruptionBudget = { enabled: false }), want: {} },
    {
      name: 'the default group alone: the plain worker selector, minAvailable = desired - maxUnavailable',
      mut: (c) => {
        c.spec.workers.replicas = 3;
        c.spec.workers.disruptionBudget = { maxUnavailable: 1 };
      },
      want: { 'c-worker': spec({ matchLabels: base }, 2) },
    },
    {
      name: 'a named group sized by its own count (not spec.workers.replicas), the default group excluding it',
      mut: (c) => {
        c.spec.workers.replicas = 4;
        c.spec.workers.disruptionBudget = { maxUnavailable: '50%' };
        c.spec.workerGroups = [
          { ...gpu, replicas: 3, disruptionBudget: { maxUnavailable: '34%' } },
          { ...gpu, name: 'mem', replicas: 1, disruptionBudget: { maxUnavailable: 0 } },
        ];
      },
      want: {
        'c-worker': spec(
          {
            matchLabels: base,
            matchExpressions: [{ key: 'compute.gaffer.dev/worker-group', operator: 'NotIn', values: ['gpu', 'mem'] }],
          },
          2,
        ),
        // 34% of 3 rounds up to 2 unavailable
        'c-gpu': spec({ matchLabels: { ...base, 'compute.gaffer.dev/worker-group': 'gpu' } }, 1),
        'c-mem': spec({ matchLabels: { ...base, 'compute.gaffer.dev/worker-group': 'mem' } }, 1),
      },
    },
    {
      name: 'a suspended cluster: nothing to keep',
      mut: (c) => {
        c.spec.suspend = true;
        c.spec.master.disruptionBudget = {};
        c.spec.workers.disruptionBudget = { maxUnavailable: 0 };
      },
      want: {
        'c-master': spec(
          { matchLabels: { 'compute.gaffer.dev/cluster': 'c', 'compute.gaffer.dev/role': 'master' } },
          0,
        ),
        'c-worker': spec({ matchLabels: base }, 0),
      },
    },
  ];
  for (const t of cases)
    it(`builds ${t.name}`, () => {
      const got = Object.fromEntries(buildBudgets(cluster(t.mut)).map((b) => [b.metadata!.name, b.spec]));
      expect(got).to.deep.equal(t.want);
    });

  it('owns each budget by the cluster (controller) and labels it for the cache', () => {
    const [b] = buildBudgets(cluster((c) => (c.spec.master.disruptionBudget = {})));
    expect(b!.metadata!.ownerReferences![0]).to.include({ uid: 'uid-c', controller: true, kind: 'ComputeCluster' });
    expect(b!.metadata!.labels).to.include({
      'app.kubernetes.io/managed-by': 'gaffer',
      'compute.gaffer.dev/cluster': 'c',
    });
  });

  it('matches a stored budget whatever its key order and server fields, not one with another limit', () => {
    const c = cluster((x) => (x.spec.workers.disruptionBudget = { maxUnavailable: 1 }));
    const [want] = buildBudgets(c);
    const stored = structuredClone(want!);
    stored.spec = {
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
      minAvailable: want!.spec!.minAvailable,
      selector: { matchLabels: Object.fromEntries(Object.entries(base).reverse()) },
    };
    stored.metadata!.labels = { ...stored.metadata!.labels, extra: 'x' };
    (stored as any).status = { disruptionsAllowed: 1 };
    expect(budgetMatches(stored, want!)).to.equal(true);
    expect(budgetMatches({ ...stored, spec: { ...stored.spec, minAvailable: 5 } }, want!)).to.equal(false);
    expect(budgetMatches({ ...stored, spec: { ...stored.spec, maxUnavailable: 1 } }, want!)).to.equal(false);
  });

  describe('takes over only a budget that is absent or an orphan of the cluster', () => {
    const pdb = (meta: object) => ({ metadata: { name: 'c-master', ...meta } });
    const ours = { 'app.kubernetes.io/managed-by': 'gaffer', 'compute.gaffer.dev/cluster': 'c' };
    const cases: { name: string; b: any; says?: RegExp }[] = [
      { name: 'absent', b: undefined },
      { name: 'an orphan with our labels', b: pdb({ labels: ours }) },
      {
        name: 'ours already (a cache behind our own write)',
        b: pdb({
          labels: ours,
          ownerReferences: [{ kind: 'ComputeCluster', name: 'c', controller: true, uid: 'uid-c' }],
        }),
      },
      { name: "the user's own (no labels)", b: pdb({}), says: /is not Gaffer's/ },
      {
        name: "another cluster's",
        b: pdb({ labels: { ...ours, 'compute.gaffer.dev/cluster': 'd' } }),
        says: /is not Gaffer's/,
      },
      {
        name: 'one with a controller',
        b: pdb({
          labels: ours,
          ownerReferences: [{ kind: 'Deployment', name: 'x', controller: true, uid: 'u', apiVersion: 'apps/v1' }],
        }),
        says: /is controlled by Deployment x/,
      },
    ];
    for (const t of cases)
      it(t.name, () => {
        const why = whyNotOurs(t.b, 'c', 'uid-c');
        if (t.says) expect(why).to.match(t.says);
        else expect(why).to.equal(undefined);
      });
  });
});

// spec.master.disruptionBudget and the worker groups' disruptionBudget: the budgets built (pure).
import { expect } from 'chai';
import { validateCluster, type ValidComputeCluster } from '../../src/api/v1alpha1/index.ts';
import { budgetMatches, buildBudgets } from '../../src/builders/budgets.ts';
import { minimalCluster } from '../fixtures/specs.ts';

function cluster(mut: (c: any) => void): ValidComputeCluster {
  const c = minimalCluster();
  c.metadata = { name: 'c', namespace: 'ns', uid: 'uid-c', generation: 1 };
  mut(c);
  const r = validateCluster(c);
  expect(r.errors).to.deep.equal([]);
  return r.value;
}
const gpu = { name: 'gpu', replicas: 2, template: { spec: { containers: [{ name: 'w', image: 'gpu:1' }] } } };
const base = { 'compute.gaffer.dev/cluster': 'c', 'compute.gaffer.dev/role': 'worker' };

describe('disruption budgets', () => {
  const cases: { name: string; mut: (c: any) => void; want: Record<string, unknown> }[] = [
    { name: 'none asked for', mut: () => {}, want: {} },
    {
      name: 'the master: maxUnavailable 0 over the master pod',
      mut: (c) => (c.spec.master.disruptionBudget = {}),
      want: {
        'c-master': {
          selector: { matchLabels: { 'compute.gaffer.dev/cluster': 'c', 'compute.gaffer.dev/role': 'master' } },
          maxUnavailable: 0,
        },
      },
    },
    { name: 'the master turned off', mut: (c) => (c.spec.master.disruptionBudget = { enabled: false }), want: {} },
    {
      name: 'the default group alone: the plain worker selector',
      mut: (c) => (c.spec.workers.disruptionBudget = { maxUnavailable: 1 }),
      want: { 'c-worker': { selector: { matchLabels: base }, maxUnavailable: 1 } },
    },
    {
      name: 'a named group, and the default group excluding it',
      mut: (c) => {
        c.spec.workers.disruptionBudget = { maxUnavailable: '50%' };
        c.spec.workerGroups = [{ ...gpu, disruptionBudget: { maxUnavailable: 0 } }];
      },
      want: {
        'c-worker': {
          selector: {
            matchLabels: base,
            matchExpressions: [{ key: 'compute.gaffer.dev/worker-group', operator: 'NotIn', values: ['gpu'] }],
          },
          maxUnavailable: '50%',
        },
        'c-gpu': {
          selector: { matchLabels: { ...base, 'compute.gaffer.dev/worker-group': 'gpu' } },
          maxUnavailable: 0,
        },
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
    stored.spec = { maxUnavailable: 1, selector: { matchLabels: Object.fromEntries(Object.entries(base).reverse()) } };
    stored.metadata!.labels = { ...stored.metadata!.labels, extra: 'x' };
    (stored as any).status = { disruptionsAllowed: 1 };
    expect(budgetMatches(stored, want!)).to.equal(true);
    expect(budgetMatches({ ...stored, spec: { ...stored.spec, maxUnavailable: 2 } }, want!)).to.equal(false);
  });
});

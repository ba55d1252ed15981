// Pure builders of the PodDisruptionBudgets a ComputeCluster asks for (spec.master.disruptionBudget,
// spec.workers.disruptionBudget, spec.workerGroups[].disruptionBudget): cluster -> budgets.
import { API_VERSION } from '../api/v1alpha1/group.ts';
import type { ValidComputeCluster as ComputeCluster } from '../api/v1alpha1/index.ts';
import { nameOf, namespaceOf } from '../kube/meta.ts';
import type { V1PodDisruptionBudget } from '../kube/types.ts';
import { workerGroups, type WorkerGroup } from './groups.ts';
import { DEFAULT_GROUP, LABELS, baseLabels, names, roleSelector } from './labels.ts';
import { controllerRef } from './owner.ts';

type LabelSelector = NonNullable<NonNullable<V1PodDisruptionBudget['spec']>['selector']>;

function budget(
  c: ComputeCluster,
  name: string,
  role: 'master' | 'worker',
  selector: LabelSelector,
  maxUnavailable: number | string,
): V1PodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: {
      name,
      namespace: namespaceOf(c),
      labels: { ...baseLabels(nameOf(c)), [LABELS.role]: role },
      ownerReferences: [controllerRef(c, API_VERSION, 'ComputeCluster')],
    },
    spec: { selector, maxUnavailable },
  };
}

/**
 * A group's workers. The default group's are those of no named group: its workers made by
 * older operators carry no group label (as the scale subresource's selector, status.ts).
 */
function groupSelector(c: ComputeCluster, g: WorkerGroup): LabelSelector {
  const matchLabels = roleSelector(nameOf(c), 'worker');
  if (g.name !== DEFAULT_GROUP) return { matchLabels: { ...matchLabels, [LABELS.workerGroup]: g.name } };
  const named = workerGroups(c)
    .slice(1)
    .map((x) => x.name);
  if (!named.length) return { matchLabels };
  return { matchLabels, matchExpressions: [{ key: LABELS.workerGroup, operator: 'NotIn', values: named }] };
}

/** The budgets the spec asks for: the master's (maxUnavailable 0), and one per group that sets one. */
export function buildBudgets(c: ComputeCluster): V1PodDisruptionBudget[] {
  const cluster = nameOf(c);
  const out: V1PodDisruptionBudget[] = [];
  if (c.spec.master.disruptionBudget?.enabled) {
    out.push(budget(c, names.budget(cluster, 'master'), 'master', { matchLabels: roleSelector(cluster, 'master') }, 0));
  }
  for (const g of workerGroups(c)) {
    const b = g.pool.disruptionBudget;
    if (b) out.push(budget(c, names.budget(cluster, g.name), 'worker', groupSelector(c, g), b.maxUnavailable));
  }
  return out;
}

/** JSON with object keys sorted: the server's key order is not ours. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b)))
      : x,
  );

/** Whether an existing budget carries what Gaffer sets (server defaults and status ignored). */
export function budgetMatches(existing: V1PodDisruptionBudget, desired: V1PodDisruptionBudget): boolean {
  const spec = (b: V1PodDisruptionBudget) =>
    canonical({ selector: b.spec?.selector ?? {}, maxUnavailable: b.spec?.maxUnavailable ?? null });
  return (
    spec(existing) === spec(desired) &&
    Object.entries(desired.metadata?.labels ?? {}).every(([k, v]) => existing.metadata?.labels?.[k] === v) &&
    (existing.metadata?.ownerReferences ?? []).some((r) => r.uid === desired.metadata?.ownerReferences?.[0]?.uid)
  );
}

// Pure builders of the PodDisruptionBudgets a ComputeCluster asks for (spec.master.disruptionBudget,
// spec.workers.disruptionBudget, spec.workerGroups[].disruptionBudget): cluster -> budgets.
import { API_VERSION } from '../api/v1alpha1/group.ts';
import type { ValidComputeCluster as ComputeCluster } from '../api/v1alpha1/index.ts';
import { nameOf, namespaceOf } from '../kube/meta.ts';
import type { V1PodDisruptionBudget } from '../kube/types.ts';
import { desiredCount, namedGroupNames, workerGroups, type WorkerGroup } from './groups.ts';
import { DEFAULT_GROUP, LABELS, baseLabels, names, roleSelector } from './labels.ts';
import { controllerRef } from './owner.ts';

type LabelSelector = NonNullable<NonNullable<V1PodDisruptionBudget['spec']>['selector']>;

/**
 * A budget as an integer minAvailable: the disruption controller then counts the pods its
 * selector matches. With maxUnavailable (or a percentage) it would take the expected count from
 * the pods' controller's scale subresource: the ComputeCluster's, spec.workers.replicas, wrong
 * for every group but the default and for the master. Unhealthy pods may always be evicted (a
 * drain is not held up by a broken pod the operator replaces anyway).
 */
function budget(
  c: ComputeCluster,
  name: string,
  role: 'master' | 'worker',
  selector: LabelSelector,
  minAvailable: number,
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
    spec: { selector, minAvailable, unhealthyPodEvictionPolicy: 'AlwaysAllow' },
  };
}

/**
 * A group's workers. The default group's are those of no named group: its workers made by
 * older operators carry no group label (as the scale subresource's selector, status.ts).
 */
function groupSelector(c: ComputeCluster, g: WorkerGroup): LabelSelector {
  const matchLabels = roleSelector(nameOf(c), 'worker');
  if (g.name !== DEFAULT_GROUP) return { matchLabels: { ...matchLabels, [LABELS.workerGroup]: g.name } };
  const named = namedGroupNames(c);
  if (!named.length) return { matchLabels };
  return { matchLabels, matchExpressions: [{ key: LABELS.workerGroup, operator: 'NotIn', values: named }] };
}

/** maxUnavailable as a count of the group's desired workers: a percentage rounds up, as a budget's does. */
export function unavailableCount(v: number | string, desired: number): number {
  if (typeof v === 'number') return v;
  return Math.ceil((desired * Number(v.replace('%', ''))) / 100);
}

/** The budgets the spec asks for: the master's (it must stay), and one per group that sets one. */
export function buildBudgets(c: ComputeCluster): V1PodDisruptionBudget[] {
  const cluster = nameOf(c);
  const out: V1PodDisruptionBudget[] = [];
  if (c.spec.master.disruptionBudget?.enabled) {
    const selector = { matchLabels: roleSelector(cluster, 'master') };
    out.push(budget(c, names.budget(cluster, 'master'), 'master', selector, c.spec.suspend ? 0 : 1));
  }
  for (const g of workerGroups(c)) {
    const b = g.pool.disruptionBudget;
    if (!b) continue;
    const desired = desiredCount(c, g);
    const minAvailable = Math.max(0, desired - unavailableCount(b.maxUnavailable, desired));
    out.push(budget(c, names.budget(cluster, g.name), 'worker', groupSelector(c, g), minAvailable));
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
    canonical({
      selector: b.spec?.selector ?? {},
      minAvailable: b.spec?.minAvailable ?? null,
      maxUnavailable: b.spec?.maxUnavailable ?? null,
      unhealthyPodEvictionPolicy: b.spec?.unhealthyPodEvictionPolicy ?? null,
    });
  return (
    spec(existing) === spec(desired) &&
    Object.entries(desired.metadata?.labels ?? {}).every(([k, v]) => existing.metadata?.labels?.[k] === v) &&
    (existing.metadata?.ownerReferences ?? []).some((r) => r.uid === desired.metadata?.ownerReferences?.[0]?.uid)
  );
}

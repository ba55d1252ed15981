// Worker groups: spec.workers (the default group, named worker) and spec.workerGroups[], seen
// alike by the builders and planners (pure).
import type { ValidComputeCluster } from '../api/v1alpha1/index.ts';
import { labelOf } from '../kube/meta.ts';
import type { V1Pod } from '../kube/types.ts';
import { DEFAULT_GROUP, LABELS } from './labels.ts';

/** What a group's workers are made and managed from (spec.workers and each spec.workerGroups[] item share it). */
export type WorkerPool = ValidComputeCluster['spec']['workers'];

export interface WorkerGroup {
  name: string;
  pool: WorkerPool;
}

/**
 * The cluster's worker groups, the default first, then spec.workerGroups in order. Memoized per
 * cluster object: cached objects are never mutated (a change arrives as a new object).
 */
const memo = new WeakMap<ValidComputeCluster, WorkerGroup[]>();
export function workerGroups(c: ValidComputeCluster): WorkerGroup[] {
  let groups = memo.get(c);
  if (!groups) {
    groups = [
      { name: DEFAULT_GROUP, pool: c.spec.workers },
      ...(c.spec.workerGroups ?? []).map(({ name, ...pool }) => ({ name, pool })),
    ];
    memo.set(c, groups);
  }
  return groups;
}

/**
 * The named groups' names, sorted: what the default group's selectors (the scale subresource's,
 * its disruption budget's) exclude, since its workers of older operators carry no group label.
 */
export const namedGroupNames = (c: ValidComputeCluster): string[] =>
  workerGroups(c)
    .slice(1)
    .map((g) => g.name)
    .sort();

/** The group of that name, if the spec still has it. */
export const groupNamed = (c: ValidComputeCluster, name: string): WorkerGroup | undefined =>
  workerGroups(c).find((g) => g.name === name);

export const defaultGroup = (c: ValidComputeCluster): WorkerGroup => workerGroups(c)[0]!;

/** A worker's group: its label, or the default group for workers made before groups existed. */
export const groupOf = (p: V1Pod): string => labelOf(p, LABELS.workerGroup) ?? DEFAULT_GROUP;

/** Desired workers of a group: replicas (default minReplicas) clamped to [minReplicas, maxReplicas]; 0 if suspended. */
export function desiredCount(c: ValidComputeCluster, g: WorkerGroup): number {
  const w = g.pool;
  if (c.spec.suspend) return 0;
  return Math.min(w.maxReplicas, Math.max(w.minReplicas, w.replicas ?? w.minReplicas));
}

/** How progress messages name a group's workers: "worker(s)" for the default group, "gpu worker(s)" for others. */
export const workersOf = (g: WorkerGroup): string => (g.name === DEFAULT_GROUP ? 'worker(s)' : `${g.name} worker(s)`);

// spec.workers: replace broken workers (after the backoff), scale to the desired count in
// the scale-down order of docs/api.md, and roll out template changes per updateStrategy.
import type { ValidComputeCluster } from '../../api/v1alpha1/index.ts';
import { CLUSTER_REASONS } from '../../api/v1alpha1/reasons.ts';
import { LABELS, POD_DELETION_COST } from '../../builders/labels.ts';
import { buildWorkerPod, workerRevision } from '../../builders/pods.ts';
import { annotationOf, isTerminating, labelOf, nameOf } from '../../kube/meta.ts';
import type { V1Pod } from '../../kube/types.ts';
import { isReady } from '../common/podhealth.ts';
import { createPod, deletePod, event, type ClusterAction } from './actions.ts';
import type { Observed } from './observe.ts';
import type { BackoffGate } from './recovery.ts';

export interface IndexedPod {
  pod: V1Pod;
  index: number;
}

export interface WorkersStep {
  actions: ClusterAction[];
  progress: string[];
  wakeAt?: number;
  /** Broken workers deleted now (each counts as a failure). */
  replaced: number;
  lastReason?: string;
}

/** Desired workers: replicas (default minReplicas) clamped to [minReplicas, maxReplicas]; 0 if suspended. */
export function desiredWorkerCount(c: ValidComputeCluster): number {
  const w = c.spec.workers;
  if (c.spec.suspend) return 0;
  return Math.min(w.maxReplicas, Math.max(w.minReplicas, w.replicas ?? w.minReplicas));
}

/** maxUnavailable as a count: an integer, or a percentage of desired rounded down (at least 1). */
export function maxUnavailableCount(v: number | string, desired: number): number {
  if (typeof v === 'number') return Math.max(1, v);
  return Math.max(1, Math.floor((desired * Number(v.replace('%', ''))) / 100));
}

/** Scale-down order of docs/api.md: not Ready first, then lowest pod-deletion-cost, then highest index. */
export function scaleDownOrder(pods: IndexedPod[]): IndexedPod[] {
  const cost = (p: V1Pod) => Number(annotationOf(p, POD_DELETION_COST) ?? 0) || 0;
  return [...pods].sort(
    (a, b) => Number(isReady(a.pod)) - Number(isReady(b.pod)) || cost(a.pod) - cost(b.pod) || b.index - a.index,
  );
}

/** Workers with a problem that are neither terminating nor already being deleted. */
export function brokenWorkers(obs: Observed, deleting: Set<string>): V1Pod[] {
  return [...obs.workers.values()].filter(
    (p) => !isTerminating(p) && !deleting.has(nameOf(p)) && obs.problems.has(nameOf(p)),
  );
}

/** Deletes the broken workers (their replacements take the same index), or waits for the backoff. */
export function replaceBroken(obs: Observed, broken: V1Pod[], gate: BackoffGate, now: number): WorkersStep {
  if (!broken.length) return { actions: [], progress: [], replaced: 0 };
  if (now < gate.allowedAt) {
    return {
      actions: [],
      progress: [`${broken.length} worker(s) to replace after backoff`],
      wakeAt: gate.allowedAt,
      replaced: 0,
    };
  }
  const actions: ClusterAction[] = [];
  let lastReason: string | undefined;
  for (const p of broken) {
    const prob = obs.problems.get(nameOf(p));
    if (!prob) continue;
    actions.push(
      deletePod(p, prob.reason, prob.message),
      event('Warning', prob.reason, `${prob.message}; replacing it`),
    );
    lastReason = prob.reason;
  }
  return { actions, progress: [], replaced: broken.length, lastReason };
}

/** How the workers stand after this plan's deletes. */
interface Census {
  /** Healthy workers that stay. */
  live: IndexedPod[];
  /** Broken workers not replaced yet (backoff): they keep their places. */
  waiting: number;
  /** Workers on their way out: their index is taken until they are gone. */
  leaving: number;
}

function census(obs: Observed, deleting: Set<string>): Census {
  const live: IndexedPod[] = [];
  let waiting = 0;
  let leaving = 0;
  for (const [index, pod] of obs.workers) {
    const name = nameOf(pod);
    if (isTerminating(pod) || deleting.has(name)) leaving++;
    else if (obs.problems.has(name)) waiting++;
    else live.push({ index, pod });
  }
  return { live, waiting, leaving };
}

function scaleDown(live: IndexedPod[], excess: number, desired: number): WorkersStep {
  const message = `scaling workers down to ${desired}`;
  const actions = scaleDownOrder(live)
    .slice(0, excess)
    .map(({ pod }) => deletePod(pod, CLUSTER_REASONS.ScaleDown, message));
  return { actions, progress: [message], replaced: 0 };
}

/**
 * Creates the missing workers at the lowest free indices. Pods on their way out free their
 * index only when gone; the replacement then takes that index, so none is made elsewhere.
 */
function scaleUp(
  c: ValidComputeCluster,
  obs: Observed,
  shortfall: number,
  leaving: number,
  desired: number,
): WorkersStep {
  const actions: ClusterAction[] = [];
  let missing = Math.max(0, shortfall - leaving);
  for (let i = 0; missing > 0; i++) {
    if (obs.workers.has(i)) continue;
    actions.push(createPod(buildWorkerPod(c, i, desired)));
    missing--;
  }
  return { actions, progress: [`${shortfall} worker(s) missing`], replaced: 0 };
}

/** Template changes: Recreate replaces all outdated workers, RollingUpdate within maxUnavailable, OnDelete none. */
function rollOut(c: ValidComputeCluster, { live, waiting }: Census, desired: number): WorkersStep {
  const rev = workerRevision(c);
  const outdated = live.filter(({ pod }) => labelOf(pod, LABELS.revision) !== rev);
  const strategy = c.spec.workers.updateStrategy;
  if (!outdated.length || strategy.type === 'OnDelete') return { actions: [], progress: [], replaced: 0 };
  let budget = outdated.length;
  if (strategy.type === 'RollingUpdate') {
    const missing = Math.max(0, desired - live.length - waiting);
    const unavailable = live.filter(({ pod }) => !isReady(pod)).length + waiting + missing;
    budget = Math.max(0, maxUnavailableCount(strategy.maxUnavailable, desired) - unavailable);
  }
  const actions = scaleDownOrder(outdated)
    .slice(0, budget)
    .map(({ pod }) => deletePod(pod, CLUSTER_REASONS.TemplateChanged, 'the worker template changed'));
  return { actions, progress: [`updating ${outdated.length} worker(s) to revision ${rev}`], replaced: 0 };
}

/** Scale first; only a cluster at its desired size rolls out a new template. */
export function scaleAndRoll(
  c: ValidComputeCluster,
  obs: Observed,
  deleting: Set<string>,
  desired: number,
): WorkersStep {
  const counts = census(obs, deleting);
  const excess = counts.live.length + counts.waiting - desired;
  if (excess > 0) return scaleDown(counts.live, excess, desired);
  if (excess < 0) return scaleUp(c, obs, -excess, counts.leaving, desired);
  return rollOut(c, counts, desired);
}

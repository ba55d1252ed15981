// spec.workers and spec.workerGroups[]: replace broken workers (after the backoff), scale each
// group to its desired count in the scale-down order of docs/api.md, roll out template changes
// per the group's updateStrategy, and remove the workers of groups taken out of the spec.
import type { ValidComputeCluster } from '../../api/v1alpha1/index.ts';
import { CLUSTER_REASONS } from '../../api/v1alpha1/reasons.ts';
import { POD_DELETION_COST } from '../../builders/labels.ts';
import { buildWorkerPod, isCurrentWorker, workerRevision } from '../../builders/pods.ts';
import {
  defaultGroup,
  desiredCount,
  groupNamed,
  groupOf,
  workerGroups,
  workersOf,
  type WorkerGroup,
} from '../../builders/groups.ts';
import { DEFAULT_GROUP } from '../../builders/labels.ts';
import { isGangMember } from '../../builders/gang.ts';
import { annotationOf, isTerminating, nameOf } from '../../kube/meta.ts';
import type { V1Pod } from '../../kube/types.ts';
import { isReady } from '../common/podhealth.ts';
import { ms, soonest } from '../common/time.ts';
import { createPod, deletePod, event, type ClusterAction } from './actions.ts';
import type { Observed } from './observe.ts';
import type { BackoffGate } from './recovery.ts';

/** Why an outdated worker goes: its revision covers its template and the master port of GAFFER_MASTER_*. */
const WORKER_OUTDATED = 'the worker template or the master port changed';

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

/** Desired workers of the default group (GAFFER_WORKERS of a driver, the scale subresource). */
export const desiredWorkerCount = (c: ValidComputeCluster): number => desiredCount(c, defaultGroup(c));

/** One group's workers as observed: by index, terminating ones included. */
export interface GroupPods {
  group: WorkerGroup;
  pods: Map<number, V1Pod>;
}

/** maxUnavailable as a count: an integer, or a percentage of desired rounded down (at least 1). */
export function maxUnavailableCount(v: number | string, desired: number): number {
  if (typeof v === 'number') return Math.max(1, v);
  return Math.max(1, Math.floor((desired * Number(v.replace('%', ''))) / 100));
}

/**
 * Scale-down order of docs/api.md: broken first (a failed or crash-looping worker waiting for
 * its replacement backoff is the cheapest to lose), then not Ready, then lowest
 * pod-deletion-cost, then highest index.
 */
export function scaleDownOrder(pods: IndexedPod[], broken: (p: V1Pod) => boolean = () => false): IndexedPod[] {
  const cost = (p: V1Pod) => Number(annotationOf(p, POD_DELETION_COST) ?? 0) || 0;
  const rank = (p: V1Pod) => {
    if (broken(p)) return 0;
    return isReady(p) ? 2 : 1;
  };
  return [...pods].sort((a, b) => rank(a.pod) - rank(b.pod) || cost(a.pod) - cost(b.pod) || b.index - a.index);
}

/**
 * Workers with a problem that are neither terminating nor already being deleted, of the groups
 * the spec has: those of a removed group are deleted as such (removedGroups), not counted as
 * failures nor replaced.
 */
export function brokenWorkers(c: ValidComputeCluster, obs: Observed, deleting: Set<string>): V1Pod[] {
  const broken = (p: V1Pod) => !isTerminating(p) && !deleting.has(nameOf(p)) && obs.problems.has(nameOf(p));
  return obs.workers.filter((p) => broken(p) && !!groupNamed(c, groupOf(p)));
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
  waiting: IndexedPod[];
  /**
   * Workers on their way out, by index: each holds its index until gone. The value is when its
   * name should be free: undefined when this plan deletes it (or force-deletes it, stuck on a
   * lost node), else 30 s past its deletionTimestamp.
   */
  leaving: Map<number, number | undefined>;
}

/** Time a terminating worker may take past its deletionTimestamp: the kubelet's final delete and the watch's lag. */
const GONE_WITHIN_MS = 30_000;

/**
 * Until when the replacement waits for a terminating worker's name. Past that the worker is
 * overdue (a finalizer, or a kubelet that never confirms, holds it) and waiting has no end.
 */
const nameFreedBy = (p: V1Pod): number => (ms(p.metadata?.deletionTimestamp) ?? 0) + GONE_WITHIN_MS;

function census(obs: Observed, { pods }: GroupPods, deleting: Set<string>): Census {
  const counts: Census = { live: [], waiting: [], leaving: new Map() };
  for (const [index, pod] of pods) {
    const name = nameOf(pod);
    if (deleting.has(name)) counts.leaving.set(index, undefined);
    else if (isTerminating(pod)) counts.leaving.set(index, nameFreedBy(pod));
    else if (obs.problems.has(name)) counts.waiting.push({ index, pod });
    else counts.live.push({ index, pod });
  }
  return counts;
}

/** Broken workers go first, so a healthy one is never removed while a broken one waits for its backoff. */
function scaleDown(
  obs: Observed,
  g: WorkerGroup,
  { live, waiting }: Census,
  excess: number,
  desired: number,
): WorkersStep {
  const message = `scaling ${g.name === DEFAULT_GROUP ? 'workers' : `${g.name} workers`} down to ${desired}`;
  const actions = scaleDownOrder([...waiting, ...live], (p) => obs.problems.has(nameOf(p)))
    .slice(0, excess)
    .map(({ pod }) => deletePod(pod, CLUSTER_REASONS.ScaleDown, message));
  return { actions, progress: [message], replaced: 0 };
}

/**
 * Creates the missing workers at the lowest indices that no staying worker holds. An index held
 * by a worker on its way out counts as filled: its replacement takes that name once it is gone
 * (wakeAt: when it is overdue). Leftovers beyond those indices (a scale-down's, with a long
 * grace period or a finalizer) and overdue ones hold nothing up.
 */
function scaleUp(
  c: ValidComputeCluster,
  g: WorkerGroup,
  counts: Census,
  shortfall: number,
  desired: number,
  now: number,
): WorkersStep {
  const staying = new Set([...counts.live, ...counts.waiting].map(({ index }) => index));
  const actions: ClusterAction[] = [];
  let wakeAt: number | undefined;
  for (let i = 0, missing = shortfall; missing > 0; i++) {
    const freedBy = counts.leaving.get(i);
    if (staying.has(i) || (freedBy !== undefined && freedBy <= now)) continue;
    missing--;
    if (!counts.leaving.has(i)) actions.push(createPod(buildWorkerPod(c, i, desired, g)));
    wakeAt = soonest(wakeAt, freedBy);
  }
  return { actions, progress: [`${shortfall} ${workersOf(g)} missing`], replaced: 0, wakeAt };
}

/**
 * Which outdated workers RollingUpdate replaces now. Those that are broken or not Ready are
 * unavailable already, so replacing them costs no availability: they all go first, as a
 * Deployment cleans up unhealthy old pods (a template fixed after an ImagePullBackOff rolls
 * out). Ready ones go while no more than maxUnavailable workers are unavailable.
 */
function rollingVictims(
  g: WorkerGroup,
  obs: Observed,
  { live, waiting }: Census,
  outdated: IndexedPod[],
  desired: number,
): IndexedPod[] {
  const healthy = ({ pod }: IndexedPod) => isReady(pod) && !obs.problems.has(nameOf(pod));
  const missing = Math.max(0, desired - live.length - waiting.length);
  const unavailable = live.filter(({ pod }) => !isReady(pod)).length + waiting.length + missing;
  const max = maxUnavailableCount(g.pool.updateStrategy.maxUnavailable, desired);
  const budget = Math.max(0, max - unavailable);
  return [
    ...scaleDownOrder(outdated.filter((p) => !healthy(p))),
    ...scaleDownOrder(outdated.filter(healthy)).slice(0, budget),
  ];
}

/**
 * Template changes: Recreate replaces all outdated workers, RollingUpdate within maxUnavailable,
 * OnDelete none. A gang turned on replaces every worker outside it at once, whatever the
 * strategy: the scheduler would hold the new members until minCount of them exist, which the
 * old workers, holding their places, keep from ever happening.
 */
function rollOut(
  c: ValidComputeCluster,
  g: WorkerGroup,
  obs: Observed,
  counts: Census,
  desired: number,
  held?: string,
): WorkersStep {
  const outdated = [...counts.waiting, ...counts.live].filter(({ pod }) => !isCurrentWorker(c, pod, obs.staleWiring));
  if (outdated.length && held) {
    return { actions: [], progress: [`${outdated.length} outdated ${workersOf(g)} wait: ${held}`], replaced: 0 };
  }
  const joining = !!c.spec.scheduling?.gang && outdated.some(({ pod }) => !isGangMember(c, pod));
  const strategy = joining ? 'Recreate' : g.pool.updateStrategy.type;
  if (!outdated.length || strategy === 'OnDelete') return { actions: [], progress: [], replaced: 0 };
  const victims = strategy === 'RollingUpdate' ? rollingVictims(g, obs, counts, outdated, desired) : outdated;
  const actions = victims.map(({ pod }) => deletePod(pod, CLUSTER_REASONS.TemplateChanged, WORKER_OUTDATED));
  const progress = [`updating ${outdated.length} ${workersOf(g)} to revision ${workerRevision(c, g)}`];
  return { actions, progress, replaced: 0 };
}

/** Scale first; only a group at its desired size rolls out a new template (unless `held` says why not). */
export function scaleAndRoll(
  c: ValidComputeCluster,
  obs: Observed,
  group: GroupPods,
  deleting: Set<string>,
  now: number,
  held?: string,
): WorkersStep {
  const g = group.group;
  const desired = desiredCount(c, g);
  const counts = census(obs, group, deleting);
  const excess = counts.live.length + counts.waiting.length - desired;
  if (excess > 0) return scaleDown(obs, g, counts, excess, desired);
  if (excess < 0) return scaleUp(c, g, counts, -excess, desired, now);
  return rollOut(c, g, obs, counts, desired, held);
}

/** Why the workers of a group taken out of spec.workerGroups go. */
const GROUP_REMOVED = (group: string) => `worker group ${group} is no longer in spec.workerGroups`;

/** Deletes the workers of groups the spec no longer has (not those terminating or already being deleted). */
export function removedGroups(c: ValidComputeCluster, obs: Observed, deleting: Set<string>): WorkersStep {
  const actions: ClusterAction[] = [];
  const progress: string[] = [];
  for (const [name, pods] of obs.groups) {
    if (groupNamed(c, name)) continue;
    const going = [...pods.values()].filter((p) => !isTerminating(p) && !deleting.has(nameOf(p)));
    for (const p of going) actions.push(deletePod(p, CLUSTER_REASONS.WorkerGroupRemoved, GROUP_REMOVED(name)));
    if (going.length) progress.push(`removing ${going.length} worker(s) of the removed group ${name}`);
  }
  return { actions, progress, replaced: 0 };
}

/** Every group of the spec with its observed pods (none yet for a new group). */
export const groupsOf = (c: ValidComputeCluster, obs: Observed): GroupPods[] =>
  workerGroups(c).map((group) => ({ group, pods: obs.groups.get(group.name) ?? new Map() }));

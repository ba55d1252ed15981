// What is wrong with a pod that the kubelet will not fix by itself (pure).
import { POD_PROBLEMS, type PodProblemReason } from '../../api/v1alpha1/reasons.ts';
import { isTerminating, nameOf } from '../../kube/meta.ts';
import type { V1ContainerStatus, V1Node, V1Pod } from '../../kube/types.ts';
import { ms } from './time.ts';

export { isTerminating };

export interface PodProblem {
  reason: PodProblemReason;
  message: string;
}

/**
 * A node absent from the API server counts as deleted only after this long, as PodGC's
 * quarantine: a cache that missed the node (a relist, a failover) must never cost a pod.
 */
export const NODE_GONE_QUARANTINE_MS = 40_000;
/** How soon a pod whose node is absent from the cache, but not confirmed gone, is judged again. */
export const NODE_RECHECK_MS = 5_000;

/** Nodes by name: the node cache, or a Map in tests. */
export interface NodeLookup {
  get(name: string): V1Node | undefined;
  /**
   * For a node absent from the cache: since when it has been missing, once the API server
   * confirmed it does not have it (a live 404). Undefined while unconfirmed: the node exists
   * live (the cache is stale) or the live read failed. A plain Map confirms nothing.
   */
  goneSince?(name: string): number | undefined;
}

/** What a live read of a node absent from the cache said. */
export type LiveNodeRead = 'found' | 'notFound' | 'failed';

/** The bookkeeping of one node absent from the cache, after a live read (see nodeAbsence). */
export interface NodeAbsence {
  /** When this operator first saw it missing; cleared when the API server has it. */
  firstMissing?: number;
  /** Set when the API server confirmed it gone: the quarantine runs from firstMissing. */
  goneSince?: number;
}

/**
 * A node absent from the cache, after a live read: found, the cache is stale and the node not
 * missing (the quarantine starts over next time); not found, it is gone since it was first seen
 * missing; a failed read confirms nothing but keeps when it was first seen missing.
 */
export function nodeAbsence(firstMissing: number | undefined, live: LiveNodeRead, now: number): NodeAbsence {
  if (live === 'found') return {};
  const since = firstMissing ?? now;
  return live === 'notFound' ? { firstMissing: since, goneSince: since } : { firstMissing: since };
}

/** The parts of spec.podRecovery that judge a pod (schema defaults applied). */
export interface RecoverySettings {
  crashLoop: { maxContainerRestarts: number; windowSeconds: number };
  nodeLossSeconds: number;
}

export const isReady = (p: V1Pod) =>
  p.status?.phase === 'Running' && !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

function terminatedSummary(p: V1Pod): string {
  const t = p.status?.containerStatuses?.map((c) => c.state?.terminated).find((x) => x);
  if (!t) return 'no container status';
  return `exit code ${t.exitCode}${t.reason ? ` (${t.reason})` : ''}`;
}

export function nodeReadySince(node: V1Node | undefined): { ready: boolean; since?: number } {
  const c = node?.status?.conditions?.find((x) => x.type === 'Ready');
  // A node that never reported Ready (its kubelet never posted, or a condition without a time)
  // has not been Ready since it was registered: counted from "now" instead, it would never be lost.
  return { ready: c?.status === 'True', since: ms(c?.lastTransitionTime) ?? ms(node?.metadata?.creationTimestamp) };
}

/** A pod that ended (Failed or Succeeded) will never run again: it needs replacing. */
function endedProblem(p: V1Pod): PodProblem | undefined {
  const phase = p.status?.phase;
  if (phase === 'Failed' && p.status?.reason === 'Evicted') {
    return { reason: POD_PROBLEMS.Evicted, message: `pod ${nameOf(p)} was evicted: ${p.status.message ?? ''}`.trim() };
  }
  if (phase === 'Failed')
    return { reason: POD_PROBLEMS.PodFailed, message: `pod ${nameOf(p)} failed: ${terminatedSummary(p)}` };
  if (phase === 'Succeeded') {
    return { reason: POD_PROBLEMS.PodSucceeded, message: `pod ${nameOf(p)} exited: ${terminatedSummary(p)}` };
  }
  return undefined;
}

/**
 * When a container last (re)started: the start of its current run, or, while it waits to run
 * again, its last termination. Unknown: now (the restarts may be going on).
 */
function lastRestart(s: V1ContainerStatus, now: number): number {
  return Math.min(now, ms(s.state?.running?.startedAt) ?? ms(s.lastState?.terminated?.finishedAt) ?? now);
}

/**
 * A container's restarts within the window, with no history kept (the judgement survives an
 * operator restart): they all happened between the pod's start and the container's last
 * restart, spread evenly over that span, and those after the window's start count. A container
 * that has been running for longer than the window had none in it, however many it had before.
 */
function restartsInWindow(s: V1ContainerStatus, podStart: number, windowMs: number, now: number): number {
  const restarts = s.restartCount ?? 0;
  if (!restarts) return 0;
  const last = lastRestart(s, now);
  const overlap = last - Math.max(podStart, now - windowMs);
  if (overlap <= 0) return 0;
  return (restarts * overlap) / Math.max(1, last - podStart);
}

/** Crash loop: more than maxContainerRestarts restarts (summed over the containers) within the window. */
function crashLoopProblem(p: V1Pod, r: RecoverySettings, now: number): PodProblem | undefined {
  const max = r.crashLoop.maxContainerRestarts;
  const windowMs = r.crashLoop.windowSeconds * 1000;
  const statuses = p.status?.containerStatuses ?? [];
  const restarts = statuses.reduce((sum, s) => sum + (s.restartCount ?? 0), 0);
  if (restarts <= max) return undefined;
  const podStart = ms(p.status?.startTime) ?? ms(p.metadata?.creationTimestamp) ?? now;
  const inWindow = statuses.reduce((sum, s) => sum + restartsInWindow(s, podStart, windowMs, now), 0);
  if (inWindow <= max) return undefined;
  return {
    reason: POD_PROBLEMS.CrashLoop,
    message: `pod ${nameOf(p)} restarted its containers ${restarts} times (limit ${max} in ${windowMs / 1000}s)`,
  };
}

/**
 * A pod whose node is absent from the cache is lost only once the API server confirmed the node
 * gone and the quarantine has passed since it was first seen missing; until confirmed, it is
 * judged again shortly (the cache may just be behind).
 */
function goneNodeLoss(p: V1Pod, nodeName: string, nodes: NodeLookup, now: number): PodHealth {
  const since = nodes.goneSince?.(nodeName);
  if (since === undefined) return { nodeLossAt: now + NODE_RECHECK_MS };
  const lostAt = since + NODE_GONE_QUARANTINE_MS;
  if (lostAt > now) return { nodeLossAt: lostAt };
  const goneFor = Math.round((now - since) / 1000);
  const message = `node ${nodeName} of pod ${nameOf(p)} has been gone from the API server for ${goneFor}s (node deleted)`;
  return { problem: { reason: POD_PROBLEMS.NodeLost, message } };
}

/**
 * Since when the pod has been on its node: bound (PodScheduled) or, without that, created. A pod
 * placed on a node that was already NotReady gets the whole nodeLossSeconds from its arrival, as
 * the taint manager counts a NoExecute toleration from when it sees the pod: counted from the
 * node's transition, each replacement the scheduler put on that node was judged lost at once and
 * replaced again (a loop that counted one node loss many times; found by the soak).
 */
export function onNodeSince(p: V1Pod): number | undefined {
  const scheduled = p.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'True');
  const times = [ms(scheduled?.lastTransitionTime), ms(p.metadata?.creationTimestamp)].filter(
    (t): t is number => t !== undefined,
  );
  return times.length ? Math.max(...times) : undefined;
}

/**
 * A pod whose node has not been Ready for nodeLossSeconds (or is gone) is lost; else when it
 * would be. The time counts from the node's transition or the pod's arrival, the later.
 */
export function nodeLoss(p: V1Pod, nodes: NodeLookup, nodeLossSeconds: number, now: number): PodHealth {
  const nodeName = p.spec?.nodeName;
  if (!nodeName) return {};
  const node = nodes.get(nodeName);
  if (!node) return goneNodeLoss(p, nodeName, nodes, now);
  const { ready, since } = nodeReadySince(node);
  if (ready) return {};
  const notReadySince = since ?? now;
  const lostAt = Math.max(notReadySince, onNodeSince(p) ?? notReadySince) + nodeLossSeconds * 1000;
  if (lostAt > now) return { nodeLossAt: lostAt };
  const forS = Math.round((now - notReadySince) / 1000);
  const message = `node ${nodeName} of pod ${nameOf(p)} has not been Ready for ${forS}s`;
  return { problem: { reason: POD_PROBLEMS.NodeLost, message } };
}

/**
 * A problem, or undefined. `nodeLossAt` is set when the pod's node is not Ready yet
 * but not for long enough: when the pod would count as lost (for requeueing).
 */
export interface PodHealth {
  problem?: PodProblem;
  nodeLossAt?: number;
}

export function podProblem(p: V1Pod, nodes: NodeLookup, r: RecoverySettings, now: number): PodHealth {
  const problem = endedProblem(p) ?? crashLoopProblem(p, r, now);
  if (problem) return { problem };
  return nodeLoss(p, nodes, r.nodeLossSeconds, now);
}

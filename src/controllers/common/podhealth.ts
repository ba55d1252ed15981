// What is wrong with a pod that the kubelet will not fix by itself (pure).
import { POD_PROBLEMS, type PodProblemReason } from '../../api/v1alpha1/reasons.ts';
import { isTerminating, nameOf } from '../../kube/meta.ts';
import type { V1Node, V1Pod } from '../../kube/types.ts';
import { ms } from './time.ts';

export { isTerminating };

export interface PodProblem {
  reason: PodProblemReason;
  message: string;
}

/** Nodes by name: the node cache, or a Map in tests. */
export interface NodeLookup {
  get(name: string): V1Node | undefined;
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
  return { ready: c?.status === 'True', since: ms(c?.lastTransitionTime) };
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
 * Crash loop: restarts within the window, estimated from the restart count and the pod's
 * age, so no history has to be kept (and it survives an operator restart).
 */
function crashLoopProblem(p: V1Pod, r: RecoverySettings, now: number): PodProblem | undefined {
  const max = r.crashLoop.maxContainerRestarts;
  const window = r.crashLoop.windowSeconds * 1000;
  const restarts = (p.status?.containerStatuses ?? []).reduce((s, c) => s + (c.restartCount ?? 0), 0);
  if (restarts <= max) return undefined;
  const age = Math.max(1, now - (ms(p.status?.startTime) ?? ms(p.metadata?.creationTimestamp) ?? now));
  const inWindow = age <= window ? restarts : (restarts * window) / age;
  if (inWindow <= max) return undefined;
  return {
    reason: POD_PROBLEMS.CrashLoop,
    message: `pod ${nameOf(p)} restarted its containers ${restarts} times (limit ${max} in ${window / 1000}s)`,
  };
}

/** A pod whose node has not been Ready for nodeLossSeconds (or is gone) is lost; else when it would be. */
export function nodeLoss(p: V1Pod, nodes: NodeLookup, nodeLossSeconds: number, now: number): PodHealth {
  const nodeName = p.spec?.nodeName;
  if (!nodeName) return {};
  const node = nodes.get(nodeName);
  const { ready, since } = nodeReadySince(node);
  if (ready) return {};
  const lossMs = nodeLossSeconds * 1000;
  const lostAt = (node ? (since ?? now) : now - lossMs) + lossMs;
  if (lostAt > now) return { nodeLossAt: lostAt };
  const notReadyFor = Math.round((now - lostAt + lossMs) / 1000);
  const message = `node ${nodeName} of pod ${nameOf(p)} has not been Ready for ${notReadyFor}s${node ? '' : ' (node deleted)'}`;
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

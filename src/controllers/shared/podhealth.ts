// What is wrong with a pod that the kubelet will not fix by itself (pure).
import type { V1Node, V1Pod } from '../../kube/types.ts';
import { ms } from './time.ts';

export interface PodProblem {
  reason: 'Evicted' | 'PodFailed' | 'PodSucceeded' | 'CrashLoop' | 'NodeLost';
  message: string;
}

/** Nodes by name: the node cache, or a Map in tests. */
export interface NodeLookup {
  get(name: string): V1Node | undefined;
}

export interface RecoverySettings {
  crashLoop?: { maxContainerRestarts?: number; windowSeconds?: number };
  nodeLossSeconds?: number;
}

export const isTerminating = (p: V1Pod) => !!p.metadata?.deletionTimestamp;
export const isReady = (p: V1Pod) =>
  p.status?.phase === 'Running' && !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

function terminatedSummary(p: V1Pod): string {
  const t = p.status?.containerStatuses?.map((c) => c.state?.terminated).find((x) => x);
  return t ? `exit code ${t.exitCode}${t.reason ? ` (${t.reason})` : ''}` : 'no container status';
}

export function nodeReadySince(node: V1Node | undefined): { ready: boolean; since?: number } {
  const c = node?.status?.conditions?.find((x) => x.type === 'Ready');
  return { ready: c?.status === 'True', since: ms(c?.lastTransitionTime as any) };
}

/**
 * A problem, or undefined. `nodeLossAt` is set when the pod's node is not Ready yet
 * but not for long enough: when the pod would count as lost (for requeueing).
 */
export function podProblem(
  p: V1Pod,
  nodes: NodeLookup,
  r: RecoverySettings,
  now: number,
): { problem?: PodProblem; nodeLossAt?: number } {
  const phase = p.status?.phase;
  if (phase === 'Failed') {
    if (p.status?.reason === 'Evicted')
      return {
        problem: {
          reason: 'Evicted',
          message: `pod ${p.metadata!.name} was evicted: ${p.status.message ?? ''}`.trim(),
        },
      };
    return { problem: { reason: 'PodFailed', message: `pod ${p.metadata!.name} failed: ${terminatedSummary(p)}` } };
  }
  if (phase === 'Succeeded')
    return { problem: { reason: 'PodSucceeded', message: `pod ${p.metadata!.name} exited: ${terminatedSummary(p)}` } };

  // Crash loop: restarts within the window, estimated from the restart count and the pod's
  // age, so no history has to be kept (and it survives an operator restart).
  const max = r.crashLoop?.maxContainerRestarts ?? 5;
  const window = (r.crashLoop?.windowSeconds ?? 600) * 1000;
  const restarts = (p.status?.containerStatuses ?? []).reduce((s, c) => s + (c.restartCount ?? 0), 0);
  if (restarts > max) {
    const age = Math.max(1, now - (ms(p.status?.startTime as any) ?? ms(p.metadata?.creationTimestamp as any) ?? now));
    const inWindow = age <= window ? restarts : (restarts * window) / age;
    if (inWindow > max)
      return {
        problem: {
          reason: 'CrashLoop',
          message: `pod ${p.metadata!.name} restarted its containers ${restarts} times (limit ${max} in ${window / 1000}s)`,
        },
      };
  }

  const nodeName = p.spec?.nodeName;
  if (nodeName) {
    const node = nodes.get(nodeName);
    const { ready, since } = nodeReadySince(node);
    if (!ready) {
      const lossMs = (r.nodeLossSeconds ?? 60) * 1000;
      const lostAt = (node ? (since ?? now) : now - lossMs) + lossMs;
      if (lostAt <= now)
        return {
          problem: {
            reason: 'NodeLost',
            message: `node ${nodeName} of pod ${p.metadata!.name} has not been Ready for ${Math.round((now - lostAt + lossMs) / 1000)}s${node ? '' : ' (node deleted)'}`,
          },
        };
      return { nodeLossAt: lostAt };
    }
  }
  return {};
}

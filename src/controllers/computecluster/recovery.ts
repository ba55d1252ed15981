// spec.podRecovery: the replacement backoff shared by the master and the workers, and the
// intent recorded in status before pods are deleted (crash safety: an operator killed
// between the two never forgets a replacement, nor counts it twice).
import type { ComputeClusterStatus, ValidComputeCluster } from '../../api/v1alpha1/index.ts';
import { CLUSTER_REASONS, type ClusterReason } from '../../api/v1alpha1/reasons.ts';
import { isTerminating, uidOf } from '../../kube/meta.ts';
import type { V1Pod } from '../../kube/types.ts';
import { backoffSeconds, iso, ms } from '../common/time.ts';
import { deletePod, type DeletePod } from './actions.ts';

type Recovery = NonNullable<ComputeClusterStatus['recovery']>;
export type RetiringPod = NonNullable<Recovery['retiring']>[number];

/** Where the backoff streak stands, and the earliest time the next replacement may happen. */
export interface BackoffGate {
  streak: number;
  allowedAt: number;
}

/** The streak resets after resetAfterSeconds without a failure; the first replacement is immediate. */
export function backoffGate(c: ValidComputeCluster, now: number): BackoffGate {
  const recovery = c.status?.recovery;
  const lastFailure = ms(recovery?.lastFailureTime);
  if (lastFailure === undefined) return { streak: 0, allowedAt: now };
  const inStreak = now - lastFailure <= c.spec.podRecovery.resetAfterSeconds * 1000;
  const streak = inStreak ? (recovery?.failureStreak ?? 0) : 0;
  if (streak === 0) return { streak, allowedAt: now };
  return { streak, allowedAt: lastFailure + backoffSeconds(streak, c.spec.podRecovery.backoff) * 1000 };
}

/** Status to write before acting. */
export interface RecoveryIntent {
  recovery: Recovery;
  /** status.master.restarts after this plan, when it recreates the master. */
  masterRestarts?: number;
  /** The master is going away: status.master.uid is cleared so jobs see the change. */
  clearMasterUid: boolean;
}

/** What the steps decided that the intent records. */
export interface Replacements {
  /** Failed pods replaced now (the master counts once whether deleted or recreated). */
  failures: number;
  lastReason?: string;
  masterRestart: boolean;
  clearMasterUid: boolean;
  /** The deletes this plan counts (a failed pod, a lost master, RestartCluster's workers): recorded by uid. */
  retire: DeletePod[];
  /** Retirements recorded before whose delete is not seen yet (pendingRetirements). */
  pending: RetiringPod[];
}

/** The master restarts within failurePolicy.windowSeconds, as epoch milliseconds. */
export function recentMasterRestarts(c: ValidComputeCluster, now: number): number[] {
  const windowMs = c.spec.master.failurePolicy.windowSeconds * 1000;
  return (c.status?.recovery?.masterRestartTimes ?? [])
    .map((t) => ms(t))
    .filter((t): t is number => t !== undefined && now - t < windowMs);
}

function failureFields(c: ValidComputeCluster, r: Replacements, gate: BackoffGate, now: number): Partial<Recovery> {
  if (!r.failures) return {};
  const streak = gate.streak + 1;
  return {
    podsReplaced: (c.status?.recovery?.podsReplaced ?? 0) + r.failures,
    lastReason: r.lastReason,
    failureStreak: streak,
    lastFailureTime: iso(now),
    nextAttemptTime: iso(now + backoffSeconds(streak, c.spec.podRecovery.backoff) * 1000),
  };
}

function restartFields(c: ValidComputeCluster, now: number): Partial<Recovery> {
  const windowMs = c.spec.master.failurePolicy.windowSeconds * 1000;
  const kept = (c.status?.recovery?.masterRestartTimes ?? []).filter((t) => now - (ms(t) ?? 0) < windowMs);
  return { masterRestartTimes: [...kept, iso(now)] };
}

/**
 * The retirements recorded in status whose pod is still there and not terminating: the delete
 * was counted, but failed or was never sent (429, 5xx, a timeout, the operator killed). Those
 * whose pod is terminating or gone are done and leave the list.
 */
export function pendingRetirements(c: ValidComputeCluster, pods: V1Pod[]): RetiringPod[] {
  const live = new Set(pods.filter((p) => !isTerminating(p)).map(uidOf));
  return (c.status?.recovery?.retiring ?? []).filter((r) => live.has(r.uid));
}

const isClusterReason = (r: string): r is ClusterReason => (Object.values(CLUSTER_REASONS) as string[]).includes(r);

/** The deletes of the pending retirements, sent again as they are: counted already, no backoff. */
export function redoRetirements(pending: RetiringPod[], pods: V1Pod[]): DeletePod[] {
  const byUid = new Map(pods.map((p) => [uidOf(p), p]));
  return pending.flatMap((r) => {
    const p = byUid.get(r.uid);
    const reason = isClusterReason(r.reason) ? r.reason : CLUSTER_REASONS.PodFailed;
    return p ? [deletePod(p, reason, `retrying the delete of ${r.name}, counted already (${r.reason})`)] : [];
  });
}

/** status.recovery with this list of retirements (the field is left out when empty). */
export function withRetiring(recovery: Recovery, retiring: RetiringPod[]): Recovery {
  const { retiring: _old, ...rest } = recovery;
  return retiring.length ? { ...rest, retiring } : rest;
}

/** status.recovery after this plan: its intent's, or the one in status with the finished retirements dropped. */
export const plannedRecovery = (c: ValidComputeCluster, intent: RecoveryIntent | undefined, pending: RetiringPod[]) =>
  intent?.recovery ?? withRetiring(c.status?.recovery ?? {}, pending);

export function recoveryIntent(
  c: ValidComputeCluster,
  r: Replacements,
  gate: BackoffGate,
  now: number,
): RecoveryIntent | undefined {
  if (!r.failures && !r.masterRestart && !r.clearMasterUid) return undefined;
  const retiring = [...r.pending, ...r.retire.map((d) => ({ name: d.name, uid: d.uid, reason: d.reason }))];
  return {
    recovery: withRetiring(
      {
        ...(c.status?.recovery ?? {}),
        ...failureFields(c, r, gate, now),
        ...(r.masterRestart ? restartFields(c, now) : {}),
      },
      retiring,
    ),
    ...(r.masterRestart ? { masterRestarts: (c.status?.master?.restarts ?? 0) + 1 } : {}),
    clearMasterUid: r.clearMasterUid,
  };
}

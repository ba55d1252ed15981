// spec.podRecovery: the replacement backoff shared by the master and the workers, and the
// intent recorded in status before pods are deleted (crash safety: an operator killed
// between the two never forgets a replacement, nor counts it twice).
import type { ComputeClusterStatus, ValidComputeCluster } from '../../api/v1alpha1/index.ts';
import { backoffSeconds, iso, ms } from '../common/time.ts';

type Recovery = NonNullable<ComputeClusterStatus['recovery']>;

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

export function recoveryIntent(
  c: ValidComputeCluster,
  r: Replacements,
  gate: BackoffGate,
  now: number,
): RecoveryIntent | undefined {
  if (!r.failures && !r.masterRestart && !r.clearMasterUid) return undefined;
  return {
    recovery: {
      ...(c.status?.recovery ?? {}),
      ...failureFields(c, r, gate, now),
      ...(r.masterRestart ? restartFields(c, now) : {}),
    },
    ...(r.masterRestart ? { masterRestarts: (c.status?.master?.restarts ?? 0) + 1 } : {}),
    clearMasterUid: r.clearMasterUid,
  };
}

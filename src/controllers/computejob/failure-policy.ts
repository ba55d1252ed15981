// spec.failurePolicy and spec.backoffLimit: what a failed attempt means for the job — fail
// it now, retry without counting, or count it and retry after the backoff.
import type { Attempt, FailureRule } from '../../api/v1alpha1/index.ts';
import { ATTEMPT_END_REASONS, JOB_REASONS, type Reason } from '../../api/v1alpha1/reasons.ts';
import { backoffSeconds, iso } from '../common/time.ts';
import type { JobContext, Outcome } from './context.ts';
import { masterLoss, masterPodLostAt } from './master.ts';
import { finish } from './status.ts';

/** The first failurePolicy rule that matches an attempt's end, or Count. */
export function ruleAction(
  rules: FailureRule[],
  exitCode: number | undefined,
  reason: string | undefined,
): FailureRule['action'] {
  for (const r of rules) {
    if (r.onExitCodes && exitCode !== undefined) {
      const hit = r.onExitCodes.values.includes(exitCode);
      if (r.onExitCodes.operator === 'In' ? hit : !hit) return r.action;
    }
    if (r.onReasons && reason !== undefined && r.onReasons.includes(reason)) return r.action;
  }
  return 'Count';
}

/** Attempt ends that break a streak of failures: a success, and the job stopped from outside (suspend, Kueue). */
const NOT_FAILURES = new Set<string | undefined>([
  ATTEMPT_END_REASONS.Succeeded,
  ATTEMPT_END_REASONS.Suspended,
  ATTEMPT_END_REASONS.Preempted,
  ATTEMPT_END_REASONS.Requeued,
]);

/** Failed attempts in a row, counted or not: no hot loop on a flapping master. */
function failureStreak(attempts: Attempt[]): number {
  let streak = 0;
  for (let i = attempts.length - 1; i >= 0; i--) {
    const reason = attempts[i]?.reason;
    if (NOT_FAILURES.has(reason)) break;
    streak++;
  }
  return streak;
}

const exitText = (exitCode: number | undefined, sep: string) =>
  exitCode !== undefined ? `${sep}exit code ${exitCode}` : '';
const verdict = { Count: 'counted', Ignore: 'not counted', FailJob: 'failing the job' } as const;

interface FailedEnd {
  exitCode?: number;
  reason: Reason;
  message: string;
  /** When the driver stopped (ms), if known: a master lost only after that is not to blame. */
  finishedAt?: number;
}

/**
 * The end of a failed attempt whose master was replaced or lost meanwhile is put down to the
 * master (MasterRestarted, without the driver's exit code, which rules must not match): a driver
 * whose master went fails for that reason, whatever it exited with. Not when the driver had
 * stopped clearly before the master was lost (both times known: the master pod is still shown
 * failed or being deleted): then the end is the driver's own, and counts as the rules say. Once the old
 * master is gone the order is unknown and the master takes the blame.
 */
function blamed(ctx: JobContext, a: Attempt, end: FailedEnd): FailedEnd {
  if (end.reason === ATTEMPT_END_REASONS.MasterRestarted) return end;
  const loss = masterLoss(ctx, a);
  if (!loss) return end;
  const lostAt = masterPodLostAt(ctx, a.masterUID);
  // Clearly before: the kubelet's and the API server's times have one-second resolution.
  if (end.finishedAt !== undefined && lostAt !== undefined && end.finishedAt < lostAt - 1000) return end;
  const driverEnd = `${end.reason}${exitText(end.exitCode, ', ')}: ${end.message}`;
  const message = `${loss} during attempt ${a.index}; the driver's end (${driverEnd}) is put down to it`;
  return { reason: ATTEMPT_END_REASONS.MasterRestarted, message };
}

/**
 * Ends a failed attempt and applies failurePolicy: fail the job, or schedule the retry. A
 * master lost during the attempt takes the blame.
 */
export function attemptFailed(ctx: JobContext, out: Outcome, a: Attempt, driverEnd: FailedEnd): void {
  const { spec } = ctx.job;
  const end = blamed(ctx, a, driverEnd);
  const st = out.status;
  const action = ruleAction(spec.failurePolicy.rules, end.exitCode, end.reason);
  const exit = end.exitCode !== undefined ? { exitCode: end.exitCode } : {};
  out.endAttempt(a, { ...exit, reason: end.reason, message: end.message, counted: action === 'Count' });
  const what = `attempt ${a.index} failed: ${end.reason}${end.exitCode !== undefined ? ` (exit code ${end.exitCode})` : ''}`;
  out.event('Warning', JOB_REASONS.AttemptFailed, `${what}; ${verdict[action]}`);
  if (action === 'FailJob') {
    const message = `attempt ${a.index} failed with ${end.reason}${exitText(end.exitCode, ', ')}, and a failurePolicy rule says FailJob`;
    return finish(out, 'Failed', JOB_REASONS.FailedByRule, message);
  }
  if (action === 'Count') st.failed++;
  if (st.failed > spec.backoffLimit) {
    const message = `${st.failed} counted failures exceed backoffLimit ${spec.backoffLimit}; last: ${end.reason}`;
    return finish(out, 'Failed', JOB_REASONS.BackoffLimitExceeded, message);
  }
  st.nextAttemptTime = iso(out.now + backoffSeconds(failureStreak(st.attempts), spec.backoff) * 1000);
}

// spec.failurePolicy and spec.backoffLimit: what a failed attempt means for the job — fail
// it now, retry without counting, or count it and retry after the backoff.
import type { Attempt, FailureRule } from '../../api/v1alpha1/index.ts';
import { ATTEMPT_END_REASONS, JOB_REASONS, type Reason } from '../../api/v1alpha1/reasons.ts';
import { backoffSeconds, iso } from '../common/time.ts';
import type { JobContext, Outcome } from './context.ts';
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

/** Failed attempts in a row, counted or not: no hot loop on a flapping master. */
function failureStreak(attempts: Attempt[]): number {
  let streak = 0;
  for (let i = attempts.length - 1; i >= 0; i--) {
    const reason = attempts[i]?.reason;
    if (reason === ATTEMPT_END_REASONS.Succeeded || reason === ATTEMPT_END_REASONS.Suspended) break;
    streak++;
  }
  return streak;
}

const exitText = (exitCode: number | undefined, sep: string) =>
  exitCode !== undefined ? `${sep}exit code ${exitCode}` : '';
const verdict = { Count: 'counted', Ignore: 'not counted', FailJob: 'failing the job' } as const;

/** Ends a failed attempt and applies failurePolicy: fail the job, or schedule the retry. */
export function attemptFailed(
  ctx: JobContext,
  out: Outcome,
  a: Attempt,
  end: { exitCode?: number; reason: Reason; message: string },
): void {
  const { spec } = ctx.job;
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

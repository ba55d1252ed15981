// ComputeJob status: how a job finishes, and its kstatus conditions from its phase (pure).
import { MAX_ATTEMPT_HISTORY } from '../../api/v1alpha1/computejob.ts';
import type { ComputeJobStatus } from '../../api/v1alpha1/index.ts';
import { CONDITIONS, external, JOB_REASONS, type JobReason, type Reason } from '../../api/v1alpha1/reasons.ts';
import { setConditions, type ConditionInput } from '../common/conditions.ts';
import { formatDuration, iso, ms } from '../common/time.ts';
import type { JobContext, Outcome } from './context.ts';
import { SUSPENDED_MESSAGE } from '../common/queue.ts';

/** Ends the job: the running attempt (if any) ends uncounted with the job's reason. */
export function finish(out: Outcome, phase: 'Succeeded' | 'Failed', reason: JobReason | Reason, message: string): void {
  const st = out.status;
  const active = out.active;
  if (active) out.endAttempt(active, { reason, message, counted: false });
  st.phase = phase;
  st.reason = reason;
  st.message = message;
  st.completionTime = iso(out.now);
  st.duration = formatDuration(out.now - (ms(st.startTime) ?? out.now));
  delete st.nextAttemptTime;
  delete st.clusterWaitStartTime;
  if (phase === 'Succeeded') out.event('Normal', JOB_REASONS.JobSucceeded, message);
  else out.event('Warning', reason, message);
}

function progressOf(st: ComputeJobStatus): string {
  switch (st.phase ?? 'Pending') {
    case 'Pending':
      return 'starting';
    case 'WaitingForCluster':
      return `waiting for ComputeCluster ${st.clusterName} to be Ready`;
    case 'Running':
      return `attempt ${(st.attemptCount ?? 1) - 1} is running`;
    case 'Retrying':
      return `retrying at ${st.nextAttemptTime}`;
    case 'Suspended':
      return 'suspended';
    case 'Queued':
      return 'waiting for Kueue to admit it';
    default:
      return st.phase ?? 'Pending';
  }
}

/** A condition that is True in one phase and False otherwise. */
function when(on: boolean, type: string, yes: Omit<ConditionInput, 'type' | 'status'>, no: string): ConditionInput {
  return on ? { type, status: 'True', ...yes } : { type, status: 'False', reason: no, message: '' };
}

/** `progress`: what an unfinished job waits for, as the reason and message of Ready and Reconciling. */
export function jobConditions(st: ComputeJobStatus, progress?: { reason: Reason; message: string }): ConditionInput[] {
  const phase = st.phase ?? 'Pending';
  const done = phase === 'Succeeded' || phase === 'Failed';
  const msg = st.message ?? '';
  const failure = { reason: st.reason ?? JOB_REASONS.Failed, message: msg };
  const going = progress && !done ? progress : { reason: phase, message: progressOf(st) };
  return [
    phase === 'Succeeded'
      ? { type: CONDITIONS.Ready, status: 'True', reason: JOB_REASONS.Succeeded, message: msg }
      : { type: CONDITIONS.Ready, status: 'False', ...(done ? { reason: phase, message: msg } : going) },
    done || phase === 'Suspended'
      ? { type: CONDITIONS.Reconciling, status: 'False', reason: phase, message: '' }
      : { type: CONDITIONS.Reconciling, status: 'True', ...going },
    when(phase === 'Failed', CONDITIONS.Stalled, failure, JOB_REASONS.NotStalled),
    when(phase === 'Succeeded', CONDITIONS.Complete, { reason: JOB_REASONS.Succeeded, message: msg }, phase),
    when(phase === 'Failed', CONDITIONS.Failed, failure, phase),
    when(
      phase === 'Suspended',
      CONDITIONS.Suspended,
      { reason: JOB_REASONS.Suspended, message: 'spec.suspend is true' },
      JOB_REASONS.NotSuspended,
    ),
  ];
}

/**
 * Queued, for a job queued with Kueue: True while it waits, with Kueue's reason and message (which
 * queue, what quota is missing, why it was evicted); False once admitted.
 */
function queuedCondition(ctx: JobContext, st: ComputeJobStatus): ConditionInput | undefined {
  const q = ctx.queue;
  if (!q) return undefined;
  if (st.phase === 'Suspended')
    return { type: CONDITIONS.Queued, status: 'False', reason: JOB_REASONS.Suspended, message: SUSPENDED_MESSAGE };
  if (st.phase === 'Queued' && !q.admitted)
    return { type: CONDITIONS.Queued, status: 'True', reason: external(q.reason), message: q.message };
  if (q.admitted && q.note)
    return { type: CONDITIONS.Queued, status: 'False', reason: external(q.note.reason), message: q.note.message };
  return { type: CONDITIONS.Queued, status: 'False', reason: JOB_REASONS.Admitted, message: ADMITTED };
}

export const ADMITTED = 'admitted by Kueue';

/** The status to write: bounded attempt history, phase, conditions. */
export function finalStatus(ctx: JobContext, out: Outcome): ComputeJobStatus {
  const st: ComputeJobStatus = { ...out.status, attempts: out.status.attempts.slice(-MAX_ATTEMPT_HISTORY) };
  if (!st.attempts?.length) delete st.attempts;
  st.phase ??= 'Pending';
  const generation = ctx.job.metadata.generation;
  st.conditions = setConditions(
    ctx.job.status?.conditions,
    [...jobConditions(st, out.progress), ...[queuedCondition(ctx, st)].filter((c) => !!c)],
    generation,
    new Date(out.now),
  );
  return st;
}

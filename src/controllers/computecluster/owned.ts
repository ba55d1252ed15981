// What the reconcile steps that write the cluster's other owned objects (Services, disruption
// budgets, the gang's PodGroup) share: their inputs, and how a round of refused writes is told.
import type { ComputeCluster, ValidComputeCluster } from '../../api/v1alpha1/index.ts';
import type { Reason } from '../../api/v1alpha1/reasons.ts';
import { httpStatus } from '../../kube/errors.ts';
import type { EventRecorder } from '../../kube/events.ts';
import type { ReconcileContext } from '../../runtime/controller.ts';
import type { Refusals } from './refusals.ts';

/**
 * An error without an HTTP status (the request never got an answer: fenced writes, a reset, a
 * timeout) is the controller's to retry, as for any write; one the API server answered (4xx,
 * 5xx, such as an admission webhook failing) is reported on the cluster and retried with backoff.
 */
export const unanswered = (e: unknown) => httpStatus(e) === undefined;

/** One reconcile of one cluster, as a step sees it. */
export interface StepContext {
  key: string;
  /** The object as cached (events are recorded on it). */
  obj: ComputeCluster;
  /** The same, validated and defaulted. */
  c: ValidComputeCluster;
  now: number;
  log: ReconcileContext['log'];
}

/**
 * Settles a round of writes: none refused clears the record; else the refusals are one more in a
 * row (retried after podRecovery.backoff, or at once when the spec changes), logged, and recorded
 * as a Warning event. Returns the message for the step's condition.
 */
export function reportRefusals(
  failures: Refusals,
  events: EventRecorder,
  ctx: StepContext,
  refused: string[],
  told: { log: string; reason: Reason },
): string | undefined {
  const { key, obj, c, now, log } = ctx;
  const r = failures.settle(key, refused, now, c.spec.podRecovery.backoff, c.metadata.generation);
  if (!r) return undefined;
  log.warn(told.log, { error: r.message, failures: r.failures });
  events.record(obj, 'Warning', told.reason, r.message);
  return r.message;
}

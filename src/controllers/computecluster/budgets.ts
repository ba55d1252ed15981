// spec.master.disruptionBudget and the worker groups' disruptionBudget: the cluster's
// PodDisruptionBudgets applied when they differ from the cache, deleted when turned off or their
// group removed. A refusal (RBAC, admission, quota) is reported with the server's message and
// retried with backoff; it never stops the pods from being reconciled.
import type { ComputeCluster, ValidComputeCluster } from '../../api/v1alpha1/index.ts';
import { CLUSTER_REASONS } from '../../api/v1alpha1/reasons.ts';
import { budgetMatches, buildBudgets } from '../../builders/budgets.ts';
import { isControlledBy } from '../../builders/owner.ts';
import type { KubeClient } from '../../kube/client.ts';
import { errorMessage, isConflict, isNotFound, isRefused } from '../../kube/errors.ts';
import type { EventRecorder } from '../../kube/events.ts';
import { nameOf, namespaceOf, uidOf } from '../../kube/meta.ts';
import type { V1PodDisruptionBudget } from '../../kube/types.ts';
import type { ReconcileContext } from '../../runtime/controller.ts';
import type { Cache } from '../../runtime/informer.ts';
import { Refusals } from './refusals.ts';

export interface BudgetDeps {
  client: KubeClient;
  budgets: Cache<V1PodDisruptionBudget>;
  events: EventRecorder;
}

export class DisruptionBudgets {
  private readonly failures = new Refusals();

  constructor(private readonly d: BudgetDeps) {}

  /** Makes the cluster's budgets what its spec asks for; returns the API server's refusal, if any. */
  async ensure(
    key: string,
    obj: ComputeCluster,
    c: ValidComputeCluster,
    now: number,
    log: ReconcileContext['log'],
  ): Promise<string | undefined> {
    const pending = this.failures.pending(key, now, c.metadata.generation);
    if (pending) return pending.message;
    const desired = buildBudgets(c);
    const owned = this.d.budgets.byIndex('cluster', key).filter((b) => isControlledBy(b, uidOf(c)));
    const refused: string[] = [];
    const attempt = async (what: string, write: () => Promise<unknown>) => {
      try {
        await write();
      } catch (e) {
        // Gone already, or (409 on the uid precondition) replaced meanwhile: the next event says.
        if (isNotFound(e) || isConflict(e)) return;
        if (!isRefused(e)) throw e;
        refused.push(`PodDisruptionBudget ${what}: ${errorMessage(e)}`);
      }
    };
    for (const b of desired) {
      const existing = owned.find((o) => nameOf(o) === nameOf(b));
      if (existing && budgetMatches(existing, b)) continue;
      await attempt(nameOf(b), () => this.d.client.applyBudget(namespaceOf(c), b));
    }
    const wanted = new Set(desired.map(nameOf));
    for (const b of owned.filter((o) => !wanted.has(nameOf(o)) && !o.metadata?.deletionTimestamp)) {
      log.info('deleting a disruption budget the spec no longer asks for', { budget: nameOf(b) });
      await attempt(nameOf(b), () => this.d.client.deleteBudget(namespaceOf(b), nameOf(b), uidOf(b)));
    }
    if (!refused.length) return void this.failures.clear(key);
    const message = refused.join('; ');
    const backoff = c.spec.podRecovery.backoff;
    const { failures } = this.failures.record(key, message, now, backoff, c.metadata.generation);
    log.warn('the API server refused a disruption budget', { error: message, failures });
    this.d.events.record(obj, 'Warning', CLUSTER_REASONS.BudgetRefused, message);
    return message;
  }

  /** When the next try of a refused budget is due. */
  retryAt(key: string): number | undefined {
    return this.failures.retryAt(key);
  }

  forget(key: string): void {
    this.failures.clear(key);
  }
}

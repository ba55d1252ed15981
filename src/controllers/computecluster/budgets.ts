// spec.master.disruptionBudget and the worker groups' disruptionBudget: the cluster's
// PodDisruptionBudgets applied when they differ from the cache, deleted when turned off or their
// group removed. A refusal (RBAC, admission, quota) is reported with the server's message and
// retried with backoff; it never stops the pods from being reconciled.
import type { ValidComputeCluster } from '../../api/v1alpha1/index.ts';
import { CLUSTER_REASONS } from '../../api/v1alpha1/reasons.ts';
import { budgetMatches, buildBudgets } from '../../builders/budgets.ts';
import { isControlledBy, whyNotOurs } from '../../builders/owner.ts';
import type { KubeClient } from '../../kube/client.ts';
import { errorMessage, isConflict, isNotFound } from '../../kube/errors.ts';
import type { EventRecorder } from '../../kube/events.ts';
import { nameOf, namespaceOf, uidOf } from '../../kube/meta.ts';
import type { V1PodDisruptionBudget } from '../../kube/types.ts';
import type { Cache } from '../../runtime/informer.ts';
import { namespacedKey } from '../../runtime/keys.ts';
import { reportRefusals, unanswered, type StepContext } from './owned.ts';
import { Refusals } from './refusals.ts';

export interface BudgetDeps {
  client: KubeClient;
  budgets: Cache<V1PodDisruptionBudget>;
  events: EventRecorder;
}

export class DisruptionBudgets {
  private readonly failures = new Refusals();

  constructor(private readonly d: BudgetDeps) {}

  /**
   * Makes the cluster's budgets what its spec asks for; returns the API server's refusal (or a
   * name held by a budget that is not the cluster's), if any. Every answer the API server gives is
   * reported and retried with backoff, not thrown: the pods are reconciled whatever it says.
   */
  async ensure(ctx: StepContext): Promise<string | undefined> {
    const { key, c, now, log } = ctx;
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
        if (unanswered(e)) throw e;
        refused.push(`PodDisruptionBudget ${what}: ${errorMessage(e)}`);
      }
    };
    for (const b of desired) {
      const mine = owned.find((o) => nameOf(o) === nameOf(b));
      if (mine && budgetMatches(mine, b)) continue;
      const why = mine ? undefined : await this.whyNotOursLive(c, nameOf(b), refused);
      if (why) refused.push(`PodDisruptionBudget ${nameOf(b)} ${why}`);
      else await attempt(nameOf(b), () => this.d.client.applyBudget(namespaceOf(c), b));
    }
    const wanted = new Set(desired.map(nameOf));
    for (const b of owned.filter((o) => !wanted.has(nameOf(o)) && !o.metadata?.deletionTimestamp)) {
      log.info('deleting a disruption budget the spec no longer asks for', { budget: nameOf(b) });
      await attempt(nameOf(b), () => this.d.client.deleteBudget(namespaceOf(b), nameOf(b), uidOf(b)));
    }
    return reportRefusals(this.failures, this.d.events, ctx, refused, {
      log: 'a disruption budget could not be applied',
      reason: CLUSTER_REASONS.BudgetRefused,
    });
  }

  /** whyNotOurs for the budget of that name as the cache has it, else as read live (the cache holds only Gaffer's). */
  private async whyNotOursLive(c: ValidComputeCluster, name: string, refused: string[]): Promise<string | undefined> {
    const cached = this.d.budgets.get(namespacedKey(namespaceOf(c), name));
    if (cached) return whyNotOurs(cached, nameOf(c), uidOf(c));
    try {
      return whyNotOurs(await this.d.client.getBudget(namespaceOf(c), name), nameOf(c), uidOf(c));
    } catch (e) {
      if (isNotFound(e)) return undefined;
      if (unanswered(e)) throw e;
      refused.push(`PodDisruptionBudget ${name}: ${errorMessage(e)}`);
      return 'could not be read';
    }
  }

  /** When the next try of a refused budget is due. */
  retryAt(key: string): number | undefined {
    return this.failures.retryAt(key);
  }

  forget(key: string): void {
    this.failures.clear(key);
  }
}

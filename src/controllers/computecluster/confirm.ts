// What a plan counts (replacements, a master restart) is confirmed against the API server
// before its intent is written: the pod cache may be behind the cluster cache (a new leader
// whose standby watches were failing, a watch resumed after an API server restart). A plan
// from a stale pod cache judged a master its predecessor had already replaced as failed, and
// counted its restart a second time (found by the soak). Counting is rare, so one live read per
// counted pod costs little; nothing is counted while the live state disagrees (pure).
import { names } from '../../builders/labels.ts';
import { isTerminating, nameOf, uidOf } from '../../kube/meta.ts';
import type { V1Pod } from '../../kube/types.ts';
import type { ValidComputeCluster } from '../../api/v1alpha1/index.ts';
import type { ClusterPlan } from './plan.ts';

/** A live read to confirm: the pod named must be there with this uid and not terminating, or (uid undefined) absent. */
export interface LiveCheck {
  name: string;
  uid?: string;
}

/**
 * The live reads a plan's count needs: each pod it newly retires as failed (not those retired
 * before, whose count is in status already), and, when it counts a master restart without
 * deleting a master (the master "disappeared"), that there is no master pod.
 */
export function liveChecks(c: ValidComputeCluster, plan: ClusterPlan): LiveCheck[] {
  const intent = plan.intent;
  if (!intent) return [];
  const before = new Set((c.status?.recovery?.retiring ?? []).map((r) => r.uid));
  const checks: LiveCheck[] = (intent.recovery.retiring ?? [])
    .filter((r) => !before.has(r.uid))
    .map((r) => ({ name: r.name, uid: r.uid }));
  const master = names.master(nameOf(c));
  if (intent.masterRestarts !== undefined && !checks.some((x) => x.name === master)) checks.push({ name: master });
  return checks;
}

/** Why the live pod (undefined: not found) disagrees with the check, if it does: the cache is behind. */
export function disagreement(check: LiveCheck, live: V1Pod | undefined): string | undefined {
  if (check.uid === undefined)
    return live ? `pod ${check.name} exists (uid ${uidOf(live)}) though the cache has none` : undefined;
  if (!live) return `pod ${check.name} (uid ${check.uid}) is gone though the cache still has it`;
  if (uidOf(live) !== check.uid) return `pod ${nameOf(live)} is another pod (uid ${uidOf(live)}) than the cache's`;
  if (isTerminating(live)) return `pod ${check.name} is being deleted though the cache does not say so`;
  return undefined;
}

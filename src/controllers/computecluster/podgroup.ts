// spec.scheduling.gang, the I/O: the cluster's PodGroup (scheduling.k8s.io/v1beta1) applied when
// it differs from what was last applied or read, deleted when the gang is turned off. There is
// no cache of PodGroups (the API is opt-in on the API server: an informer on it would keep every
// operator from starting where it is off): a live read once per change or operator start.
import type { ValidComputeCluster } from '../../api/v1alpha1/index.ts';
import { CLUSTER_REASONS, CONDITIONS } from '../../api/v1alpha1/reasons.ts';
import { buildPodGroup, type PodGroup } from '../../builders/gang.ts';
import { names } from '../../builders/labels.ts';
import { isControlledBy, whyNotOurs } from '../../builders/owner.ts';
import type { KubeClient } from '../../kube/client.ts';
import { errorMessage, isConflict, isNotFound, statusBody } from '../../kube/errors.ts';
import type { EventRecorder } from '../../kube/events.ts';
import { nameOf, namespaceOf, uidOf } from '../../kube/meta.ts';
import type { ReconcileContext } from '../../runtime/controller.ts';
import { reportRefusals, unanswered, type StepContext } from './owned.ts';
import { Refusals } from './refusals.ts';

export interface PodGroupDeps {
  client: KubeClient;
  events: EventRecorder;
}

const NOT_SERVED =
  'the API server does not serve scheduling.k8s.io/v1beta1 PodGroups: gang scheduling needs the GenericWorkload feature gate (kube-apiserver, kube-scheduler) and --runtime-config=scheduling.k8s.io/v1beta1=true';

/**
 * A 404 about the object (its Status names it: details.name), not about the API: a server that
 * does not serve PodGroups answers 404 with no details.
 */
const objectNotFound = (e: unknown) => !!(statusBody(e)?.details as { name?: string } | undefined)?.name;

/** What of a PodGroup Gaffer sets, to compare: its size and priority. */
const specOf = (g: PodGroup | undefined) =>
  `${g?.spec?.schedulingPolicy?.gang?.minCount}/${g?.spec?.priorityClassName ?? ''}`;

/**
 * How long what was applied is trusted without a read: a PodGroup deleted behind the operator's
 * back is made again within this (there is no watch on PodGroups).
 */
const MEMO_MS = 5 * 60_000;

export class GangPodGroups {
  private readonly failures = new Refusals();
  /** Per cluster: the uid and PodGroup spec last applied or read, and when (no write while it stands). */
  private readonly applied = new Map<string, { memo: string; at: number }>();

  constructor(private readonly d: PodGroupDeps) {}

  /** Makes the cluster's PodGroup what its spec asks for; returns why it could not, if so. */
  async ensure(ctx: StepContext): Promise<string | undefined> {
    const { key, c, now, log } = ctx;
    const pending = this.failures.pending(key, now, c.metadata.generation);
    if (pending) return pending.message;
    const want = buildPodGroup(c);
    const refused: string[] = [];
    try {
      if (want) await this.apply(key, c, want, now, refused, log);
      else await this.removeIfHad(key, c, log);
    } catch (e) {
      // Unanswered (fenced, reset, timeout): the controller retries, as for any write.
      if (unanswered(e)) throw e;
      refused.push(
        isNotFound(e) && !objectNotFound(e) ? NOT_SERVED : `PodGroup ${names.podGroup(nameOf(c))}: ${errorMessage(e)}`,
      );
    }
    return reportRefusals(this.failures, this.d.events, ctx, refused, {
      log: 'the gang PodGroup could not be applied',
      reason: CLUSTER_REASONS.PodGroupRefused,
    });
  }

  private async apply(
    key: string,
    c: ValidComputeCluster,
    want: PodGroup,
    now: number,
    refused: string[],
    log: ReconcileContext['log'],
  ) {
    const memo = `${uidOf(c)}/${specOf(want)}`;
    const last = this.applied.get(key);
    if (last?.memo === memo && now - last.at < MEMO_MS) return;
    const live = await this.read(c);
    const why = whyNotOurs(live, nameOf(c), uidOf(c));
    if (why) return void refused.push(`PodGroup ${nameOf(want)} ${why}`);
    if (live && (live.spec?.priorityClassName ?? '') !== (want.spec.priorityClassName ?? '')) {
      // Its priority is immutable: made again (the pods roll with the priority anyway).
      await this.delete(c, live);
      log.info('deleted the gang PodGroup to change its priority', { podGroup: nameOf(live) });
      return;
    }
    if (specOf(live) !== specOf(want)) {
      await this.d.client.applyPodGroup(namespaceOf(c), want);
      log.info('applied the gang PodGroup', { podGroup: nameOf(want), spec: specOf(want) });
    }
    this.applied.set(key, { memo, at: now });
  }

  /** A gang turned off: its PodGroup goes (the status's Scheduled condition says there was one). */
  private async removeIfHad(key: string, c: ValidComputeCluster, log: ReconcileContext['log']) {
    this.applied.delete(key);
    if (!c.status?.conditions?.some((k) => k.type === CONDITIONS.Scheduled)) return;
    const live = await this.read(c);
    if (!live || !isControlledBy(live, uidOf(c))) return;
    await this.delete(c, live);
    log.info('deleted the gang PodGroup', { podGroup: nameOf(live) });
  }

  /** Deletes the PodGroup read (uid precondition); gone already is as good. */
  private async delete(c: ValidComputeCluster, live: PodGroup): Promise<void> {
    await this.d.client.deletePodGroup(namespaceOf(c), nameOf(live), uidOf(live)).catch((e) => {
      if (!isNotFound(e) && !isConflict(e)) throw e;
    });
  }

  /** The PodGroup as the API server has it; undefined if absent (a 404 of the API itself is thrown). */
  private async read(c: ValidComputeCluster): Promise<PodGroup | undefined> {
    try {
      return await this.d.client.getPodGroup<PodGroup>(namespaceOf(c), names.podGroup(nameOf(c)));
    } catch (e) {
      if (isNotFound(e) && objectNotFound(e)) return undefined;
      throw e;
    }
  }

  retryAt(key: string): number | undefined {
    return this.failures.retryAt(key);
  }

  forget(key: string): void {
    this.failures.clear(key);
    this.applied.delete(key);
  }
}

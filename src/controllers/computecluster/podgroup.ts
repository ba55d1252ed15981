// spec.scheduling.gang, the I/O: the cluster's PodGroup (of the provider's API: builders/gang.ts)
// applied when it differs from what was last applied or read, deleted when the gang is turned
// off or moves to another provider. There is no cache of PodGroups (each API is opt-in on the API
// server, or a CRD of a scheduler that may not be installed: an informer on it would keep every
// operator from starting where it is absent): a live read once per change or operator start.
import type { ValidComputeCluster } from '../../api/v1alpha1/index.ts';
import { CLUSTER_REASONS, CONDITIONS } from '../../api/v1alpha1/reasons.ts';
import {
  buildPodGroup,
  gangProvider,
  PODGROUP_ANNOTATIONS,
  PODGROUP_APIS,
  type GangProvider,
  type PodGroup,
} from '../../builders/gang.ts';
import { names } from '../../builders/labels.ts';
import { isControlledBy, whyNotOurs } from '../../builders/owner.ts';
import type { KubeClient } from '../../kube/client.ts';
import { apiErrorFields, errorMessage, httpStatus, isConflict, isNotFound, statusBody } from '../../kube/errors.ts';
import type { EventRecorder } from '../../kube/events.ts';
import { nameOf, namespaceOf, uidOf } from '../../kube/meta.ts';
import type { ReconcileContext } from '../../runtime/controller.ts';
import { reportRefusals, unanswered, type StepContext } from './owned.ts';
import { Refusals } from './refusals.ts';

export interface PodGroupDeps {
  client: KubeClient;
  events: EventRecorder;
}

/** Why a provider's PodGroups are not served, and what to do. */
const NOT_SERVED: Record<GangProvider, string> = {
  Kubernetes:
    'the API server does not serve scheduling.k8s.io/v1beta1 PodGroups: gang scheduling needs the GenericWorkload feature gate (kube-apiserver, kube-scheduler) and --runtime-config=scheduling.k8s.io/v1beta1=true',
  Coscheduling:
    "the API server does not serve scheduling.x-k8s.io/v1alpha1 PodGroups: install scheduler-plugins' PodGroup CRD and its scheduler with the Coscheduling plugin, or choose another gang provider",
  Volcano:
    'the API server does not serve scheduling.volcano.sh/v1beta1 PodGroups: install Volcano (its CRDs and scheduler), or choose another gang provider',
};

/**
 * A 404 about the object (its Status names it: details.name), not about the API: a server that
 * does not serve PodGroups answers 404 with no details.
 */
const objectNotFound = (e: unknown) => !!(statusBody(e)?.details as { name?: string } | undefined)?.name;

/** What Gaffer applied to a PodGroup (the hash of its spec, an annotation of it); empty when absent. */
const appliedSpec = (g: PodGroup | undefined) => g?.metadata?.annotations?.[PODGROUP_ANNOTATIONS.spec] ?? '';

/**
 * The PriorityClass Gaffer asked for, as its annotation says; a PodGroup of an operator that did
 * not annotate it tells by its field. The field alone is not enough: admission fills it in with
 * the default PriorityClass when none is asked for.
 */
const appliedPriority = (g: PodGroup) =>
  g.metadata.annotations?.[PODGROUP_ANNOTATIONS.priorityClassName] ??
  (g.spec?.priorityClassName as string | undefined) ??
  '';

/**
 * How long what was applied is trusted without a read: a PodGroup deleted behind the operator's
 * back is made again within this (there is no watch on PodGroups).
 */
const MEMO_MS = 5 * 60_000;

export class GangPodGroups {
  private readonly failures = new Refusals();
  /** Per cluster: the uid, provider and PodGroup spec last applied or read, and when (no write while it stands). */
  private readonly applied = new Map<string, { memo: string; provider: GangProvider; at: number }>();

  constructor(private readonly d: PodGroupDeps) {}

  /** Makes the cluster's PodGroup what its spec asks for; returns why it could not, if so. */
  async ensure(ctx: StepContext): Promise<string | undefined> {
    const { key, c, now, log } = ctx;
    const pending = this.failures.pending(key, now, c.metadata.generation);
    if (pending) return pending.message;
    const provider = gangProvider(c);
    const refused: string[] = [];
    try {
      const want = buildPodGroup(c);
      if (want && provider) await this.apply(key, c, provider, want, now, refused, log);
      else await this.removeIfHad(key, c, log);
    } catch (e) {
      // Unanswered (fenced, reset, timeout): the controller retries, as for any write.
      if (unanswered(e)) throw e;
      const notServed = provider && isNotFound(e) && !objectNotFound(e);
      refused.push(notServed ? NOT_SERVED[provider] : `PodGroup ${names.podGroup(nameOf(c))}: ${errorMessage(e)}`);
    }
    return reportRefusals(this.failures, this.d.events, ctx, refused, {
      log: 'the gang PodGroup could not be applied',
      reason: CLUSTER_REASONS.PodGroupRefused,
    });
  }

  private async apply(
    key: string,
    c: ValidComputeCluster,
    provider: GangProvider,
    want: PodGroup,
    now: number,
    refused: string[],
    log: ReconcileContext['log'],
  ) {
    const memo = `${uidOf(c)}/${provider}/${appliedSpec(want)}`;
    const last = this.applied.get(key);
    if (last?.memo === memo && now - last.at < MEMO_MS) return;
    // A provider changed (and maybe back): nothing known of the PodGroup of this one.
    if (last && last.provider !== provider) this.applied.delete(key);
    const live = await this.read(c, provider);
    const why = whyNotOurs(live, nameOf(c), uidOf(c));
    if (why) return void refused.push(`PodGroup ${nameOf(want)} ${why}`);
    if (provider === 'Kubernetes' && live && appliedPriority(live) !== appliedPriority(want)) {
      // Its priority is immutable: made again (the pods roll with the priority anyway).
      await this.delete(c, provider, live);
      log.info('deleted the gang PodGroup to change its priority', { podGroup: nameOf(live) });
      return;
    }
    // What Gaffer applied, as its annotation says: the API server may default or change the
    // fields themselves (a default PriorityClass, Volcano's queue from the namespace).
    if (appliedSpec(live) !== appliedSpec(want)) {
      await this.d.client.applyPodGroup(PODGROUP_APIS[provider], namespaceOf(c), want);
      log.info('applied the gang PodGroup', { podGroup: nameOf(want), provider, spec: want.spec });
    }
    // Once this provider's is in place, those of a provider it replaces go (first seen by this
    // process: it may have changed while the operator was down); retried until they are gone.
    if (last?.provider !== provider && !(await this.removeOthers(c, provider, log))) return;
    this.applied.set(key, { memo, provider, at: now });
  }

  /** A gang turned off: its PodGroup goes (the status's Scheduled condition says there was one). */
  private async removeIfHad(key: string, c: ValidComputeCluster, log: ReconcileContext['log']) {
    this.applied.delete(key);
    if (!c.status?.conditions?.some((k) => k.type === CONDITIONS.Scheduled)) return;
    await this.removeOthers(c, undefined, log, true);
  }

  /**
   * Deletes the cluster's own PodGroups of every provider but `keep`: what a gang turned off or
   * moved to another provider leaves. An API that is not served has none. Whether all went:
   * a failure is thrown when `strict` (the gang is off: that is the work), else logged (it must
   * not stop the provider in use).
   */
  private async removeOthers(
    c: ValidComputeCluster,
    keep: GangProvider | undefined,
    log: ReconcileContext['log'],
    strict = false,
  ): Promise<boolean> {
    let done = true;
    for (const provider of Object.keys(PODGROUP_APIS) as GangProvider[]) {
      if (provider === keep) continue;
      try {
        const live = await this.read(c, provider);
        if (!live || !isControlledBy(live, uidOf(c))) continue;
        await this.delete(c, provider, live);
        log.info('deleted the gang PodGroup', { podGroup: nameOf(live), provider });
      } catch (e) {
        // The API is not served, or the operator may not read it (RBAC without that provider):
        // nothing of it to clean up that it could see.
        if (isNotFound(e) || httpStatus(e) === 403) continue;
        if (strict || unanswered(e)) throw e;
        log.info('could not delete the PodGroup of the former gang provider; trying again later', {
          provider,
          error: apiErrorFields(e),
        });
        done = false;
      }
    }
    return done;
  }

  /** Deletes the PodGroup read (uid precondition); gone already is as good. */
  private async delete(c: ValidComputeCluster, provider: GangProvider, live: PodGroup): Promise<void> {
    await this.d.client
      .deletePodGroup(PODGROUP_APIS[provider], namespaceOf(c), nameOf(live), uidOf(live))
      .catch((e) => {
        if (!isNotFound(e) && !isConflict(e)) throw e;
      });
  }

  /** The provider's PodGroup as the API server has it; undefined if absent (a 404 of the API itself is thrown). */
  private async read(c: ValidComputeCluster, provider: GangProvider): Promise<PodGroup | undefined> {
    try {
      return await this.d.client.getPodGroup<PodGroup>(
        PODGROUP_APIS[provider],
        namespaceOf(c),
        names.podGroup(nameOf(c)),
      );
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

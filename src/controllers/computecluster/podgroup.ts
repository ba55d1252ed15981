// spec.scheduling.gang, the I/O: the cluster's PodGroup (scheduling.k8s.io/v1beta1) applied when
// it differs from what was last applied or read, deleted when the gang is turned off. There is
// no cache of PodGroups (the API is opt-in on the API server: an informer on it would keep every
// operator from starting where it is off): a live read once per change or operator start.
import type { ValidComputeCluster } from '../../api/v1alpha1/index.ts';
import { CLUSTER_REASONS, CONDITIONS } from '../../api/v1alpha1/reasons.ts';
import { buildPodGroup, type PodGroup } from '../../builders/gang.ts';
import { names } from '../../builders/labels.ts';
import { isControlledBy } from '../../builders/owner.ts';
import type { KubeClient } from '../../kube/client.ts';
import { errorMessage, httpStatus, isNotFound, statusBody } from '../../kube/errors.ts';
import type { EventRecorder } from '../../kube/events.ts';
import { nameOf, namespaceOf, uidOf } from '../../kube/meta.ts';
import type { ReconcileContext } from '../../runtime/controller.ts';
import { reportRefusals, type StepContext } from './owned.ts';
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

/** What of a PodGroup Gaffer sets, to compare: its size. */
const sizeOf = (g: PodGroup | undefined) => g?.spec?.schedulingPolicy?.gang?.minCount;

export class GangPodGroups {
  private readonly failures = new Refusals();
  /** Per cluster: the uid and minCount last applied or read (no write while it stands). */
  private readonly applied = new Map<string, string>();

  constructor(private readonly d: PodGroupDeps) {}

  /** Makes the cluster's PodGroup what its spec asks for; returns why it could not, if so. */
  async ensure(ctx: StepContext): Promise<string | undefined> {
    const { key, c, now, log } = ctx;
    const pending = this.failures.pending(key, now, c.metadata.generation);
    if (pending) return pending.message;
    const want = buildPodGroup(c);
    const refused: string[] = [];
    try {
      if (want) await this.apply(key, c, want, refused, log);
      else await this.removeIfHad(key, c, log);
    } catch (e) {
      // Unanswered (fenced, reset, timeout): the controller retries, as for any write.
      if (httpStatus(e) === undefined) throw e;
      refused.push(httpStatus(e) === 404 ? NOT_SERVED : `PodGroup ${names.podGroup(nameOf(c))}: ${errorMessage(e)}`);
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
    refused: string[],
    log: ReconcileContext['log'],
  ) {
    const memo = `${uidOf(c)}/${sizeOf(want)}`;
    if (this.applied.get(key) === memo) return;
    const live = await this.read(c);
    if (live && !isControlledBy(live, uidOf(c))) {
      refused.push(`PodGroup ${nameOf(want)} exists and is not this cluster's: delete or rename it`);
      return;
    }
    if (sizeOf(live) !== sizeOf(want)) {
      await this.d.client.applyPodGroup(namespaceOf(c), want);
      log.info('applied the gang PodGroup', { podGroup: nameOf(want), minCount: sizeOf(want) });
    }
    this.applied.set(key, memo);
  }

  /** A gang turned off: its PodGroup goes (the status's Scheduled condition says there was one). */
  private async removeIfHad(key: string, c: ValidComputeCluster, log: ReconcileContext['log']) {
    this.applied.delete(key);
    if (!c.status?.conditions?.some((k) => k.type === CONDITIONS.Scheduled)) return;
    const live = await this.read(c);
    if (!live || !isControlledBy(live, uidOf(c))) return;
    await this.d.client.deletePodGroup(namespaceOf(c), nameOf(live)).catch((e) => {
      if (!isNotFound(e)) throw e;
    });
    log.info('deleted the gang PodGroup', { podGroup: nameOf(live) });
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

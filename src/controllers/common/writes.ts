// Writes shared by both reconcilers: status (only when it changed), which API errors an
// action takes as done already, and claiming a pod name that a create found taken.
import type { Condition, FieldError } from '../../api/v1alpha1/index.ts';
import { CONDITIONS, JOB_REASONS } from '../../api/v1alpha1/reasons.ts';
import { stableStringify } from '../../builders/hash.ts';
import type { CustomResourceRef, KubeClient } from '../../kube/client.ts';
import { isControlledBy } from '../../builders/owner.ts';
import { errorMessage, isConflict, isNotFound } from '../../kube/errors.ts';
import { nameOf, uidOf } from '../../kube/meta.ts';
import type { V1ObjectMeta, V1OwnerReference, V1Pod } from '../../kube/types.ts';
import { ObjectGone } from '../../runtime/controller.ts';
import type { Cache } from '../../runtime/informer.ts';
import { namespacedKey } from '../../runtime/keys.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { PodConflict } from './claim.ts';
import { setConditions, type ConditionInput } from './conditions.ts';
import type { LiveNodeRead } from './podhealth.ts';

/** The parts of a custom resource a status write needs. */
export interface StatusObject<S> {
  apiVersion?: string;
  kind?: string;
  metadata: V1ObjectMeta;
  status?: S;
}

/** Equal for the purpose of writing: a status is written only when it changed. */
export const statusEqual = (a: unknown, b: unknown) => stableStringify(a ?? {}) === stableStringify(b ?? {});

/** A test of an API error: the ones an action lists are "done already", not failures. */
export type ApiErrorTest = (e: unknown) => boolean;
export const tolerated = (e: unknown, tests: readonly ApiErrorTest[]) => tests.some((t) => t(e));

/**
 * Replaces /status, conditional on the cached resourceVersion (409 when stale: the controller
 * requeues). Every other refusal is retried with backoff too: none of them is terminal, and a
 * write that is never retried could leave a job's TTL or a backoff wake-up unserved.
 */
export async function writeStatus<T extends StatusObject<unknown>>(
  client: KubeClient,
  ref: CustomResourceRef,
  obj: T,
  status: T['status'],
): Promise<T> {
  try {
    return await client.replaceStatus(ref, { ...obj, status });
  } catch (e) {
    // Its own /status is not found: the object was deleted meanwhile (an ephemeral cluster its
    // job deleted). Nothing to retry: the reconcile ends, and the delete event forgets it.
    if (isNotFound(e)) throw new ObjectGone(`${ref.plural} ${nameOf(obj)} was deleted`);
    throw e;
  }
}

/**
 * What only the controller can reject (the CRD normally catches it first): Stalled=True with
 * the fields named, and nothing running is touched. Written only when it changed.
 */
export async function stallInvalidSpec(
  client: KubeClient,
  ref: CustomResourceRef,
  obj: StatusObject<{ conditions?: Condition[] }>,
  errors: FieldError[],
  extra: Record<string, unknown> = {},
): Promise<void> {
  const message = errors.map((e) => `${e.field}: ${e.message}`).join('; ');
  const stalled: ConditionInput[] = [
    { type: CONDITIONS.Ready, status: 'False', reason: JOB_REASONS.InvalidSpec, message },
    { type: CONDITIONS.Reconciling, status: 'False', reason: JOB_REASONS.Stalled, message: 'waiting for a valid spec' },
    { type: CONDITIONS.Stalled, status: 'True', reason: JOB_REASONS.InvalidSpec, message },
  ];
  const generation = obj.metadata.generation;
  const status = {
    ...(obj.status ?? {}),
    ...extra,
    observedGeneration: generation,
    conditions: setConditions(obj.status?.conditions, stalled, generation, new Date()),
  };
  if (!statusEqual(status, obj.status)) await writeStatus(client, ref, obj, status);
}

/**
 * A live GET of a node absent from the node cache (see nodecheck.ts). A failed read confirms
 * nothing: no pod is judged lost on it, and the pod is judged again shortly.
 */
export async function readNodeLive(client: KubeClient, name: string, log: Logger): Promise<LiveNodeRead> {
  try {
    await client.getNode(name);
    log.info('a node absent from the cache exists: the cache is stale, no pod on it is judged lost', { node: name });
    return 'found';
  } catch (e) {
    if (isNotFound(e)) return 'notFound';
    log.warn('could not read a node absent from the cache', { node: name, error: errorMessage(e) });
    return 'failed';
  }
}

/**
 * Sets `owner` as the pod's controller, if it is still that pod (uid precondition). Undefined
 * when it is gone or another pod of that name is there by now: the next reconcile sees what is.
 */
export async function adoptPod(
  client: KubeClient,
  namespace: string,
  p: V1Pod,
  owner: V1OwnerReference,
): Promise<V1Pod | undefined> {
  try {
    return await client.adoptPod(namespace, nameOf(p), uidOf(p), owner);
  } catch (e) {
    if (tolerated(e, [isNotFound, isConflict])) return undefined;
    throw e;
  }
}

/** Whose a pod name is, for a create that found it taken. */
export interface NameClaim {
  namespace: string;
  name: string;
  /** The uid of the object that must control the pod (the cluster, the job). */
  ownerUid: string;
  /** Why the pod cannot be adopted (common/claim.ts whyNotAdoptable); undefined when it can. */
  whyNot: (p: V1Pod) => string | undefined;
  adopt: (p: V1Pod) => Promise<unknown>;
  /** Told the pod that turned out to be the owner's own (its earlier create went through unseen). */
  own?: (p: V1Pod) => void;
}

/**
 * A create answered AlreadyExists: the pod of that name is the owner's own (the cache had not
 * shown it yet), an orphan that matches (adopted now), or another's: a conflict, never deleted.
 * The cache holds only Gaffer's pods, so a pod that is not the owner's there is read live.
 */
export async function claimTakenName(
  client: KubeClient,
  pods: Cache<V1Pod>,
  c: NameClaim,
): Promise<PodConflict | undefined> {
  const cached = pods.get(namespacedKey(c.namespace, c.name));
  if (cached && isControlledBy(cached, c.ownerUid)) return void c.own?.(cached);
  let pod: V1Pod;
  try {
    pod = await client.getPod(c.namespace, c.name);
  } catch (e) {
    if (isNotFound(e)) return undefined; // gone since: created next time
    throw e;
  }
  if (isControlledBy(pod, c.ownerUid)) return void c.own?.(pod);
  const why = c.whyNot(pod);
  if (!why) return void (await c.adopt(pod));
  return { pod: c.name, why };
}

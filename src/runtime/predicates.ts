// Watch predicates, after controller-runtime's: each says whether an update of a cached
// object is worth a reconcile. Adds and deletes always are; `filterUpdates` applies a
// predicate to the updates of an informer handler.
import type { InformerEvent } from './informer.ts';
import type { KObject } from './keys.ts';

/** An informer update: the cached object before and after. */
export interface UpdateEvent<T> {
  old: T;
  obj: T;
}
export type UpdatePredicate<T> = (e: UpdateEvent<T>) => boolean;

/** A condition as both core objects (Node) and metav1.Condition have it. */
export interface ConditionLike {
  type: string;
  status: string;
}
/** An object with a condition list in its status (a Node, a custom resource). */
export interface WithConditions extends KObject {
  status?: { conditions?: readonly ConditionLike[] };
}

/** The status ('True', 'False', 'Unknown') of the condition `type`, or undefined without one. */
export const conditionStatus = (conditions: readonly ConditionLike[] | undefined, type: string): string | undefined =>
  conditions?.find((c) => c.type === type)?.status;

/** A Node's Ready condition status. */
export const nodeReady = (n: WithConditions): string | undefined => conditionStatus(n.status?.conditions, 'Ready');

/** True when `f` reads differently (compared as JSON) before and after. */
export const changedBy =
  <T>(f: (o: T) => unknown): UpdatePredicate<T> =>
  (e) =>
    JSON.stringify(f(e.old)) !== JSON.stringify(f(e.obj));

/** metadata.generation moved: the spec changed (status writes do not move it). */
export const generationChanged: UpdatePredicate<KObject> = (e) =>
  e.old.metadata?.generation !== e.obj.metadata?.generation;
export const labelsChanged: UpdatePredicate<KObject> = changedBy((o) => o.metadata?.labels);
export const annotationsChanged: UpdatePredicate<KObject> = changedBy((o) => o.metadata?.annotations);
/** metadata.deletionTimestamp was set (it is never unset; any change of "is set" counts). */
export const deletionStarted: UpdatePredicate<KObject> = (e) =>
  !!e.old.metadata?.deletionTimestamp !== !!e.obj.metadata?.deletionTimestamp;
/** A Node's Ready condition status changed (True, False, Unknown, or gone). */
export const nodeReadyChanged: UpdatePredicate<WithConditions> = (e) => nodeReady(e.old) !== nodeReady(e.obj);

/** True when any of `predicates` is (controller-runtime's predicate.Or). */
export const anyOf =
  <T>(...predicates: UpdatePredicate<T>[]): UpdatePredicate<T> =>
  (e) =>
    predicates.some((p) => p(e));

/** An informer handler that sees every add and delete, and the updates for which `changed` holds. */
export const filterUpdates =
  <T>(changed: UpdatePredicate<T>, handler: (e: InformerEvent<T>) => void): ((e: InformerEvent<T>) => void) =>
  (e) => {
    if (e.type !== 'update' || changed(e)) handler(e);
  };

// In-flight pod creates and deletes per owner (a ComputeCluster's or a ComputeJob's key), as the ReplicaSet
// controller's UIDTrackingControllerExpectations: a reconcile that runs before the informer
// shows its own writes must not plan from the stale cache (a scale-down that picks a second
// victim, a replacement created twice). Creates are tracked by pod name (Gaffer's names are
// fixed per role and index), deletes by pod uid; a set, not a counter, so an event seen twice
// (an update and then a delete of the same pod) lowers it once.
//
// Raised just before each request; lowered when the informer shows the result (a pod of that
// name added; the pod terminating or gone), or at once when the request fails (no event will
// come). Expectations older than the timeout are dropped, as upstream's 5 minutes: a watch
// event that was lost must not stop the owner for good.

import { isTerminating, nameOf } from '../../kube/meta.ts';
import type { V1Pod } from '../../kube/types.ts';

/** How long expectations may wait for the informer (client-go's ExpectationsTimeout). */
export const EXPECTATIONS_TIMEOUT_MS = 5 * 60_000;

interface Pending {
  /** Names of pods being created. */
  creates: Set<string>;
  /** Uids of pods being deleted. */
  deletes: Set<string>;
  /** When they were last raised: they expire EXPECTATIONS_TIMEOUT_MS later. */
  since: number;
}

/** What an owner's expectations still wait for (Expectations.waitingFor). */
export interface Waiting {
  creates: number;
  deletes: number;
  /** Uids of the pods whose delete was sent and is not in the cache yet. */
  deleting: ReadonlySet<string>;
  expiresAt: number;
}

export class Expectations {
  private readonly byKey = new Map<string, Pending>();

  constructor(
    private readonly timeoutMs = EXPECTATIONS_TIMEOUT_MS,
    private readonly clock: () => number = Date.now,
  ) {}

  private pending(key: string): Pending {
    let p = this.byKey.get(key);
    if (!p) this.byKey.set(key, (p = { creates: new Set(), deletes: new Set(), since: 0 }));
    p.since = this.clock();
    return p;
  }

  /** A create of the pod `name` is about to be sent for `key`. */
  expectCreate(key: string, name: string): void {
    this.pending(key).creates.add(name);
  }

  /** A delete of the pod `uid` is about to be sent for `key`. */
  expectDelete(key: string, uid: string): void {
    this.pending(key).deletes.add(uid);
  }

  /** The informer shows a pod of this name (or its create failed): that create is done. */
  createObserved(key: string, name: string): void {
    this.lower(key, (p) => p.creates.delete(name));
  }

  /** The informer shows the pod terminating or gone (or its delete failed): that delete is done. */
  deleteObserved(key: string, uid: string): void {
    this.lower(key, (p) => p.deletes.delete(uid));
  }

  private lower(key: string, f: (p: Pending) => void): void {
    const p = this.byKey.get(key);
    if (!p) return;
    f(p);
    if (!p.creates.size && !p.deletes.size) this.byKey.delete(key);
  }

  /**
   * Whether `key` may plan new creates and deletes: nothing in flight, or what is in flight has
   * waited past the timeout (then it is forgotten, as upstream syncs on expired expectations).
   */
  satisfied(key: string): boolean {
    const p = this.byKey.get(key);
    if (!p) return true;
    if (this.clock() - p.since < this.timeoutMs) return false;
    this.byKey.delete(key);
    return true;
  }

  /**
   * What `key` still waits for: the counts for the Reconciling message, and the uids whose delete
   * the cache does not show yet (status must not take those pods for live ones); undefined when nothing.
   */
  waitingFor(key: string): Waiting | undefined {
    const p = this.byKey.get(key);
    return (
      p && {
        creates: p.creates.size,
        deletes: p.deletes.size,
        deleting: new Set(p.deletes),
        expiresAt: p.since + this.timeoutMs,
      }
    );
  }

  /** The owner is gone: its expectations go with it. */
  forget(key: string): void {
    this.byKey.delete(key);
  }
}

/**
 * Lowers the expectations of `keys` (the pod's owners) as the cache shows their writes
 * (ReplicaSet's addPod, updatePod and deletePod): a pod added is a create seen; a pod
 * terminating or gone, a delete. Called before the reconcile the event wakes can ask.
 */
export function observePodEvent(
  expectations: Expectations,
  keys: string[],
  e: { type: 'add' | 'update' | 'delete'; obj: V1Pod },
): void {
  for (const key of keys) {
    const gone = e.type === 'delete' || isTerminating(e.obj);
    // An add is a create seen even when the pod already terminates (deleted during a watch gap
    // and first seen by a relist): left expected, it would hold the owner's writes 5 minutes.
    if (e.type === 'add') expectations.createObserved(key, nameOf(e.obj));
    if (gone) expectations.deleteObserved(key, e.obj.metadata?.uid ?? '');
  }
}

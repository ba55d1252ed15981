// Objects as the runtime sees them, the keys that name them in caches and work queues
// (client-go's "namespace/name", or "name" for cluster-scoped objects), and typed reads of
// their identity so that callers need no `metadata!.name!`.
import { nameOf } from '../kube/meta.ts';
import type { V1ObjectMeta } from '../kube/types.ts';

// nameOf, namespaceOf and uidOf live in src/kube/meta.ts, where the pure planners may import
// them too (they may not import the runtime); here for the runtime's and watches' use. Objects
// from the API server always have a name and a uid (and a namespace if namespaced), so they read
// them without `!`, and return '' when one is absent: an object built locally and not yet
// created (no uid), or a cluster-scoped one (no namespace).
export { nameOf, namespaceOf, uidOf } from '../kube/meta.ts';

/** The part of a Kubernetes object the runtime reads. */
export interface KObject {
  apiVersion?: string;
  kind?: string;
  /** In the cache: plain JSON, so the "Date" fields client-node's type declares are strings. */
  metadata?: V1ObjectMeta;
}

/** The key of the object `name` in `namespace`: "namespace/name", or "name" without a namespace. */
export const namespacedKey = (namespace: string | undefined, name: string): string =>
  namespace ? `${namespace}/${name}` : name;

/** An object's cache and work-queue key. */
export const objectKey = (o: KObject): string => namespacedKey(o.metadata?.namespace, nameOf(o));

/** A key back into its parts; a key without '/' is a cluster-scoped name (namespace ''). */
export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

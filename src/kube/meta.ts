// Typed accessors over object metadata. Objects read from the API server always have a
// name, a namespace (if namespaced) and a uid; these accessors say so once instead of a
// non-null assertion at every use. An object built locally (a pod about to be created) may
// lack a uid: `uidOf` then returns '' — never a valid precondition, so a delete would fail
// safe rather than hit another pod.
import type { V1ObjectMeta, V1Pod } from './types.ts';

export interface HasMetadata {
  metadata?: V1ObjectMeta;
}

export const nameOf = (o: HasMetadata): string => o.metadata?.name ?? '';
export const namespaceOf = (o: HasMetadata): string => o.metadata?.namespace ?? '';
export const uidOf = (o: HasMetadata): string => o.metadata?.uid ?? '';
export const labelOf = (o: HasMetadata, key: string): string | undefined => o.metadata?.labels?.[key];
export const annotationOf = (o: HasMetadata, key: string): string | undefined => o.metadata?.annotations?.[key];
export const isTerminating = (o: HasMetadata): boolean => !!o.metadata?.deletionTimestamp;
/** A pod whose containers ended for good (Succeeded or Failed): it never runs again, kept for its logs. */
export const hasExited = (p: V1Pod): boolean => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';

// Live confirmation of nodes absent from the node cache; the judgement is podhealth.ts's. A
// cache can lack a node that exists (a relist in progress, a new leader still syncing): a pod
// must not be force-deleted, nor a master restart counted, on the cache's word alone. The live
// read itself is the reconciler's (common/writes.ts readNodeLive), passed in.
import type { V1Pod } from '../../kube/types.ts';
import { nodeAbsence, type LiveNodeRead, type NodeLookup } from './podhealth.ts';

export type ReadNode = (name: string) => Promise<LiveNodeRead>;

export class LiveNodeCheck {
  /** When this operator first saw each node missing from the cache (the quarantine's start). */
  private readonly firstMissing = new Map<string, number>();

  constructor(private readonly cache: NodeLookup) {}

  /** The cache, plus what the API server says of each node of `pods` the cache lacks (one read per node). */
  async lookup(pods: V1Pod[], now: number, read: ReadNode): Promise<NodeLookup> {
    const gone = new Map<string, number>();
    const absent = new Set(pods.map((p) => p.spec?.nodeName ?? '').filter((n) => n && !this.cache.get(n)));
    for (const name of absent) {
      const a = nodeAbsence(this.firstMissing.get(name), await read(name), now);
      if (a.firstMissing === undefined) this.firstMissing.delete(name);
      else this.firstMissing.set(name, a.firstMissing);
      if (a.goneSince !== undefined) gone.set(name, a.goneSince);
    }
    // A node back in the cache is not missing: should it go again, its quarantine starts over.
    for (const name of this.firstMissing.keys()) if (this.cache.get(name)) this.firstMissing.delete(name);
    return { get: (n) => this.cache.get(n), goneSince: (n) => gone.get(n) };
  }
}

// Live confirmation of nodes absent from the node cache (I/O; the judgement is podhealth.ts's).
// A cache can lack a node that exists (a relist in progress, a new leader still syncing): a
// pod must not be force-deleted, nor a master restart counted, on the cache's word alone.
import type { KubeClient } from '../../kube/client.ts';
import { errorMessage, isNotFound } from '../../kube/errors.ts';
import type { V1Pod } from '../../kube/types.ts';
import type { Logger } from '../../runtime/logger.ts';
import { nodeAbsence, type LiveNodeRead, type NodeLookup } from './podhealth.ts';

export class LiveNodeCheck {
  /** When this operator first saw each node missing from the cache (the quarantine's start). */
  private readonly firstMissing = new Map<string, number>();

  constructor(
    private readonly client: Pick<KubeClient, 'getNode'>,
    private readonly cache: NodeLookup,
  ) {}

  /** The cache, plus what the API server says of each node of `pods` the cache lacks (one GET per node). */
  async lookup(pods: V1Pod[], now: number, log: Logger): Promise<NodeLookup> {
    const gone = new Map<string, number>();
    const absent = new Set(pods.map((p) => p.spec?.nodeName ?? '').filter((n) => n && !this.cache.get(n)));
    for (const name of absent) {
      const a = nodeAbsence(this.firstMissing.get(name), await this.read(name, log), now);
      if (a.firstMissing === undefined) this.firstMissing.delete(name);
      else this.firstMissing.set(name, a.firstMissing);
      if (a.goneSince !== undefined) gone.set(name, a.goneSince);
    }
    // A node back in the cache is not missing: should it go again, its quarantine starts over.
    for (const name of this.firstMissing.keys()) if (this.cache.get(name)) this.firstMissing.delete(name);
    return { get: (n) => this.cache.get(n), goneSince: (n) => gone.get(n) };
  }

  private async read(name: string, log: Logger): Promise<LiveNodeRead> {
    try {
      await this.client.getNode(name);
      log.info('node absent from the cache exists live: the cache is stale, nothing is deleted', { node: name });
      return 'found';
    } catch (e) {
      if (isNotFound(e)) return 'notFound';
      // Unconfirmed: nothing destructive now, judged again shortly (NODE_RECHECK_MS).
      log.warn('could not read a node absent from the cache', { node: name, error: errorMessage(e) });
      return 'failed';
    }
  }
}

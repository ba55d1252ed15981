// The composition root: configuration in, a running Manager out.
import { GROUP, VERSION, KINDS } from './api/v1alpha1/group.ts';
import { KubeClient } from './kube/client.ts';
import { loadKubeConfig } from './kube/config.ts';
import { leaseStore } from './kube/lease.ts';
import { customSource, nodeSource, podSource, serviceSource } from './kube/sources.ts';
import type { OperatorConfig } from './config.ts';
import { Controller } from './runtime/controller.ts';
import { ComputeClusterReconciler } from './controllers/computecluster/reconciler.ts';
import { addIndexes, watchClusters } from './controllers/computecluster/watches.ts';
import { EventRecorder } from './kube/events.ts';
import { ComputeJobReconciler } from './controllers/computejob/reconciler.ts';
import { addJobIndexes, watchJobs } from './controllers/computejob/watches.ts';
import { CacheSet, Informer, type InformerHooks, type KObject } from './runtime/informer.ts';
import { LeaderElector } from './runtime/leaderelection.ts';
import type { Logger } from './runtime/logger.ts';
import { Manager } from './runtime/manager.ts';
import { Metrics } from './runtime/metrics.ts';
import { TokenBucket, defaultControllerRateLimiter } from './runtime/ratelimit.ts';

/** Pods and Services the operator made carry this label; the caches hold nothing else. */
export const MANAGED_SELECTOR = 'app.kubernetes.io/managed-by=gaffer';

export interface Caches {
  clusters: CacheSet<any>;
  jobs: CacheSet<any>;
  pods: CacheSet<any>;
  services: CacheSet<any>;
  nodes: CacheSet<any>;
}

export interface Operator {
  manager: Manager;
  client: KubeClient;
  caches: Caches;
  metrics: Metrics;
  controllers: Controller[];
}

/** Informers for one namespace, or all; several namespaces get one informer each, merged. */
function informersFor(cfg: OperatorConfig, make: (ns: string | undefined) => Informer<any>): Informer<any>[] {
  return cfg.namespaces.length ? cfg.namespaces.map((ns) => make(ns)) : [make(undefined)];
}

export function buildOperator(cfg: OperatorConfig, log: Logger): Operator {
  const kc = loadKubeConfig(cfg.kubeconfig);
  const metrics = new Metrics({ processMetrics: true });
  const client = new KubeClient(kc, {
    writes: new TokenBucket(cfg.kubeApiQps, cfg.kubeApiBurst),
    events: new TokenBucket(Math.max(1, cfg.kubeApiQps / 5), Math.max(1, Math.floor(cfg.kubeApiBurst / 4))),
    observe: (verb, resource, code) => metrics.apiRequests.inc({ verb, resource, code: String(code) }),
  });
  const hooks: InformerHooks = {
    relisted: (r) => metrics.informerRelists.inc({ resource: r }),
    restarted: (r) => metrics.informerRestarts.inc({ resource: r }),
    synced: (r, v) => metrics.informerSynced.set({ resource: r }, v ? 1 : 0),
  };
  const ilog = log.child({ component: 'informer' });
  const informer = (source: any) => new Informer<KObject>(source, ilog, { hooks });
  const cr = (plural: string) => ({ group: GROUP, version: VERSION, plural });

  // Watching several namespaces is one informer per namespace; controllers read each
  // resource through one CacheSet and never care.
  const caches: Caches = {
    clusters: new CacheSet(
      informersFor(cfg, (ns) => informer(customSource(kc, client, cr(KINDS.ComputeCluster.plural), { namespace: ns }))),
    ),
    jobs: new CacheSet(
      informersFor(cfg, (ns) => informer(customSource(kc, client, cr(KINDS.ComputeJob.plural), { namespace: ns }))),
    ),
    pods: new CacheSet(
      informersFor(cfg, (ns) => informer(podSource(kc, client, { namespace: ns, labelSelector: MANAGED_SELECTOR }))),
    ),
    services: new CacheSet(
      informersFor(cfg, (ns) =>
        informer(serviceSource(kc, client, { namespace: ns, labelSelector: MANAGED_SELECTOR })),
      ),
    ),
    nodes: new CacheSet([informer(nodeSource(kc, client))]),
  };

  const limiter = () => defaultControllerRateLimiter<string>({ baseMs: cfg.backoffBaseMs, maxMs: cfg.backoffMaxMs });
  const events = new EventRecorder(client, cfg.identity, (e) =>
    log.warn('event not recorded', { error: String((e as any)?.body ?? e) }),
  );
  const deps = { client, events, resyncMs: cfg.resyncPeriodMs, ...caches };
  addIndexes(deps);
  const clusterController = new Controller('computecluster', new ComputeClusterReconciler(deps), {
    workers: cfg.workers,
    limiter: limiter(),
    log,
    metrics,
  });
  watchClusters(clusterController, deps);
  addJobIndexes(deps);
  const jobController = new Controller('computejob', new ComputeJobReconciler(deps), {
    workers: cfg.workers,
    limiter: limiter(),
    log,
    metrics,
  });
  watchJobs(jobController, deps);
  const controllers: Controller[] = [clusterController, jobController];

  let manager: Manager;
  const elector = cfg.leaderElect
    ? new LeaderElector(leaseStore(client, cfg.leaderElectionNamespace, cfg.leaderElectionId), {
        identity: cfg.identity,
        leaseDurationMs: cfg.leaseDurationMs,
        renewDeadlineMs: cfg.renewDeadlineMs,
        retryPeriodMs: cfg.retryPeriodMs,
        log: log.child({ component: 'leader-election' }),
        onStartedLeading: () => {
          void manager.startControllers();
        },
        onStoppedLeading: () => {
          // Never two writers: stop now and let the Deployment restart us as a standby.
          void manager.stopControllers().finally(() => process.exit(1));
        },
      })
    : undefined;
  manager = new Manager({
    log,
    metrics,
    elector,
    controllers,
    informers: Object.values(caches).flatMap((c) => c.parts),
    healthAddr: { host: cfg.bindAddress, port: cfg.healthPort },
    metricsAddr: { host: cfg.bindAddress, port: cfg.metricsPort },
    gracefulShutdownMs: cfg.gracefulShutdownMs,
  });
  return { manager, client, caches, metrics, controllers };
}

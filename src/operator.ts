// The composition root: configuration in, a running Manager out.
import { GROUP, VERSION, KINDS } from './api/v1alpha1/group.ts';
import type { ComputeCluster, ComputeJob } from './api/v1alpha1/index.ts';
import { KubeClient } from './kube/client.ts';
import { loadKubeConfig } from './kube/config.ts';
import { leaseStore } from './kube/lease.ts';
import { apiErrorFields } from './kube/errors.ts';
import { POD_DELETION_COST } from './builders/labels.ts';
import { GANG_KEYS } from './builders/gang.ts';
import type { ResourceFlavor, Workload } from './builders/workload.ts';
import { FLAVOR_REF, WORKLOAD_REF } from './controllers/common/workloads.ts';
import { budgetSource, customSource, nodeSource, podSource, serviceSource } from './kube/sources.ts';
import type { V1Node, V1Pod, V1PodDisruptionBudget, V1Service } from './kube/types.ts';
import type { OperatorConfig } from './config.ts';
import { Controller } from './runtime/controller.ts';
import { ComputeClusterReconciler, type ClusterDeps } from './controllers/computecluster/reconciler.ts';
import { addIndexes, watchClusters } from './controllers/computecluster/watches.ts';
import { EventRecorder } from './kube/events.ts';
import { ComputeJobReconciler, type JobDeps } from './controllers/computejob/reconciler.ts';
import { addJobIndexes, watchJobs } from './controllers/computejob/watches.ts';
import {
  CacheSet,
  Informer,
  type InformerHooks,
  type KObject,
  type ListWatchSource,
  type RunnableInformer,
} from './runtime/informer.ts';
import { LeaderElector } from './runtime/leaderelection.ts';
import type { Logger } from './runtime/logger.ts';
import { Manager } from './runtime/manager.ts';
import { Metrics } from './runtime/metrics.ts';
import { TokenBucket, defaultControllerRateLimiter } from './runtime/ratelimit.ts';

/** Pods and Services the operator made carry this label; the caches hold nothing else. */
export const MANAGED_SELECTOR = 'app.kubernetes.io/managed-by=gaffer';
/** The pod annotations a controller reads: the deletion cost, and Volcano's gang (whether a pod is a member). */
const POD_ANNOTATIONS = [POD_DELETION_COST, GANG_KEYS.volcanoGroup];

export interface Caches {
  clusters: CacheSet<ComputeCluster>;
  jobs: CacheSet<ComputeJob>;
  pods: CacheSet<V1Pod>;
  services: CacheSet<V1Service>;
  budgets: CacheSet<V1PodDisruptionBudget>;
  nodes: CacheSet<V1Node>;
  /** With --kueue: Gaffer's Kueue Workloads and Kueue's ResourceFlavors. */
  workloads?: CacheSet<Workload>;
  flavors?: CacheSet<ResourceFlavor>;
}

export interface Operator {
  manager: Manager;
  client: KubeClient;
  caches: Caches;
  metrics: Metrics;
  controllers: Controller[];
}

/**
 * One cache of a resource: an informer for one namespace, or all; several namespaces get one
 * informer each, merged, so controllers read each resource through one CacheSet and never care.
 */
function cacheFor<T extends KObject>(
  cfg: OperatorConfig,
  informer: (source: ListWatchSource<T>) => Informer<T>,
  source: (ns: string | undefined) => ListWatchSource<T>,
): CacheSet<T> {
  const namespaces = cfg.namespaces.length ? cfg.namespaces : [undefined];
  return new CacheSet(namespaces.map((ns) => informer(source(ns))));
}

function buildCaches(cfg: OperatorConfig, client: KubeClient, metrics: Metrics, log: Logger): Caches {
  const hooks: InformerHooks = {
    relisted: (r) => metrics.informerRelists.inc({ resource: r }),
    restarted: (r) => metrics.informerRestarts.inc({ resource: r }),
    bookmarked: (r) => metrics.watchBookmarks.inc({ resource: r }),
    synced: (r, v) => metrics.informerSynced.set({ resource: r }, v ? 1 : 0),
  };
  const ilog = log.child({ component: 'informer' });
  const informer = <T extends KObject>(source: ListWatchSource<T>) => new Informer<T>(source, ilog, { hooks });
  const cr = (plural: string) => ({ group: GROUP, version: VERSION, plural });
  const managed = (ns: string | undefined) => ({ namespace: ns, labelSelector: MANAGED_SELECTOR });
  return {
    clusters: cacheFor(cfg, informer, (ns) =>
      customSource<ComputeCluster>(client, cr(KINDS.ComputeCluster.plural), { namespace: ns }),
    ),
    jobs: cacheFor(cfg, informer, (ns) =>
      customSource<ComputeJob>(client, cr(KINDS.ComputeJob.plural), { namespace: ns }),
    ),
    // The cache keeps, of a pod's annotations, only those a controller reads.
    pods: cacheFor(cfg, informer, (ns) => podSource(client, { ...managed(ns), annotations: POD_ANNOTATIONS })),
    services: cacheFor(cfg, informer, (ns) => serviceSource(client, managed(ns))),
    budgets: cacheFor(cfg, informer, (ns) => budgetSource(client, managed(ns))),
    nodes: new CacheSet([informer(nodeSource(client))]),
    ...(cfg.kueue ? kueueCaches(cfg, client, informer) : {}),
  };
}

/** The Kueue integration's caches: only Gaffer's Workloads (by label), all ResourceFlavors (cluster-scoped). */
function kueueCaches(
  cfg: OperatorConfig,
  client: KubeClient,
  informer: <T extends KObject>(source: ListWatchSource<T>) => Informer<T>,
): Pick<Caches, 'workloads' | 'flavors'> {
  return {
    workloads: cacheFor(cfg, informer, (ns) =>
      customSource<Workload>(client, WORKLOAD_REF, { namespace: ns, labelSelector: MANAGED_SELECTOR }),
    ),
    flavors: new CacheSet([informer(customSource<ResourceFlavor>(client, FLAVOR_REF, {}))]),
  };
}

function buildControllers(cfg: OperatorConfig, deps: ClusterDeps & JobDeps, log: Logger, metrics: Metrics) {
  const options = () => ({
    workers: cfg.workers,
    limiter: defaultControllerRateLimiter<string>({ baseMs: cfg.backoffBaseMs, maxMs: cfg.backoffMaxMs }),
    log,
    metrics,
  });
  addIndexes(deps);
  const clusterReconciler = new ComputeClusterReconciler(deps);
  const clusterController = new Controller('computecluster', clusterReconciler, options());
  watchClusters(clusterController, deps, clusterReconciler.expectations);
  addJobIndexes(deps);
  const jobReconciler = new ComputeJobReconciler(deps);
  const jobController = new Controller('computejob', jobReconciler, options());
  watchJobs(jobController, deps, jobReconciler.expectations);
  return [clusterController, jobController];
}

/**
 * Exits once stdout has taken the last log lines (a pipe's writes are asynchronous: an exit at
 * once can drop them), waiting at most 1 s. Safe to wait: writes are fenced by then.
 */
function exitWhenLogged(code: number): void {
  const deadline = Date.now() + 1000;
  const poll = () => {
    if (process.stdout.writableLength === 0 || Date.now() >= deadline) process.exit(code);
    setTimeout(poll, 10);
  };
  poll();
}

/** The elector, when leader election is on; `manager` is called only once it leads or loses. */
function buildElector(cfg: OperatorConfig, client: KubeClient, log: Logger, manager: () => Manager) {
  if (!cfg.leaderElect) return undefined;
  return new LeaderElector(leaseStore(client, cfg.leaderElectionNamespace, cfg.leaderElectionId), {
    identity: cfg.identity,
    leaseDurationMs: cfg.leaseDurationMs,
    renewDeadlineMs: cfg.renewDeadlineMs,
    retryPeriodMs: cfg.retryPeriodMs,
    log: log.child({ component: 'leader-election' }),
    onStartedLeading: () => {
      void manager().startControllers();
    },
    onStoppedLeading: () => {
      // Never two writers: stop writing now (in-flight writes aborted), and exit at once without
      // draining; the Deployment restarts us as a standby.
      manager().leadershipLost();
      log.error('exiting: leadership lost; writes were fenced');
      exitWhenLogged(1);
    },
  });
}

export function buildOperator(cfg: OperatorConfig, log: Logger): Operator {
  const kc = loadKubeConfig(cfg.kubeconfig);
  const metrics = new Metrics({ processMetrics: true });
  const client = new KubeClient(kc, {
    writes: new TokenBucket(cfg.kubeApiQps, cfg.kubeApiBurst),
    events: new TokenBucket(Math.max(1, cfg.kubeApiQps / 5), Math.max(1, Math.floor(cfg.kubeApiBurst / 4))),
    observe: (verb, resource, code) => metrics.apiRequests.inc({ verb, resource, code: String(code) }),
    userAgent: `gaffer (${cfg.identity})`,
  });
  const caches = buildCaches(cfg, client, metrics, log);
  const events = new EventRecorder(client, cfg.identity, (e) =>
    log.warn('event not recorded', { error: apiErrorFields(e) }),
  );
  const kueue =
    caches.workloads && caches.flavors ? { workloads: caches.workloads, flavors: caches.flavors } : undefined;
  const deps = { client, events, resyncMs: cfg.resyncPeriodMs, ...caches, kueue };
  const controllers = buildControllers(cfg, deps, log, metrics);
  const elector = buildElector(cfg, client, log, () => manager);
  // A write is refused the moment leadership ends, even before the renew loop has noticed.
  if (elector) client.guardWrites(() => elector.writeBlocked());
  const manager: Manager = new Manager({
    log,
    metrics,
    elector,
    controllers,
    informers: Object.values(caches).flatMap((c: Caches[keyof Caches]): RunnableInformer[] => c?.parts ?? []),
    healthAddr: { host: cfg.bindAddress, port: cfg.healthPort },
    metricsAddr: { host: cfg.bindAddress, port: cfg.metricsPort },
    gracefulShutdownMs: cfg.gracefulShutdownMs,
    cacheSyncTimeoutMs: cfg.cacheSyncTimeoutMs,
    fenceWrites: (reason) => client.fenceWrites(reason),
    // Nothing was reconciled: the Lease is released so that another replica may lead at once,
    // and the Deployment restarts this one (its API server connection may be what failed).
    cachesNotReady: () => {
      client.fenceWrites('caches not ready');
      void (elector?.release() ?? Promise.resolve()).finally(() => exitWhenLogged(1));
    },
  });
  return { manager, client, caches, metrics, controllers };
}

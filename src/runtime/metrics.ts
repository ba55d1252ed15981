// Prometheus metrics, named as controller-runtime names them so dashboards carry over.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly reconcileTotal = new Counter({
    name: 'controller_runtime_reconcile_total',
    help: 'Reconciles by controller and result (success, requeue_after, conflict, error, terminal_error, gone).',
    labelNames: ['controller', 'result'],
    registers: [this.registry],
  });
  readonly reconcileErrors = new Counter({
    name: 'controller_runtime_reconcile_errors_total',
    help: 'Reconciles that failed.',
    labelNames: ['controller'],
    registers: [this.registry],
  });
  readonly reconcileTime = new Histogram({
    name: 'controller_runtime_reconcile_time_seconds',
    help: 'Time per reconcile.',
    labelNames: ['controller'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly activeWorkers = new Gauge({
    name: 'controller_runtime_active_workers',
    help: 'Workers reconciling now.',
    labelNames: ['controller'],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'workqueue_depth',
    help: 'Keys waiting in the work queue.',
    labelNames: ['name'],
    registers: [this.registry],
  });
  readonly queueAdds = new Counter({
    name: 'workqueue_adds_total',
    help: 'Keys added to the work queue.',
    labelNames: ['name'],
    registers: [this.registry],
  });
  readonly queueRetries = new Counter({
    name: 'workqueue_retries_total',
    help: 'Rate-limited re-adds (retries).',
    labelNames: ['name'],
    registers: [this.registry],
  });
  readonly queueLatency = new Histogram({
    name: 'workqueue_queue_duration_seconds',
    help: 'How long a key waited before a worker took it.',
    labelNames: ['name'],
    buckets: [0.001, 0.01, 0.1, 0.5, 1, 5, 10, 60],
    registers: [this.registry],
  });
  readonly apiRequests = new Counter({
    name: 'rest_client_requests_total',
    help: 'API server requests by verb, resource and HTTP code.',
    labelNames: ['verb', 'resource', 'code'],
    registers: [this.registry],
  });
  readonly isLeader = new Gauge({
    name: 'leader_election_master_status',
    help: '1 while this process is the leader.',
    labelNames: ['name'],
    registers: [this.registry],
  });
  readonly informerRelists = new Counter({
    name: 'gaffer_informer_relists_total',
    help: 'Full lists by informers (startup, 410 Gone, recovery).',
    labelNames: ['resource'],
    registers: [this.registry],
  });
  readonly informerRestarts = new Counter({
    name: 'gaffer_informer_restarts_total',
    help: 'List/watch failures that restarted an informer.',
    labelNames: ['resource'],
    registers: [this.registry],
  });
  readonly watchBookmarks = new Counter({
    name: 'gaffer_watch_bookmarks_total',
    help: 'BOOKMARK events received by informer watches: the server keeping a quiet watch open and its resourceVersion fresh.',
    labelNames: ['resource'],
    registers: [this.registry],
  });
  readonly informerSynced = new Gauge({
    name: 'gaffer_informer_synced',
    help: '1 once the informer has listed.',
    labelNames: ['resource'],
    registers: [this.registry],
  });

  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry });
  }
}

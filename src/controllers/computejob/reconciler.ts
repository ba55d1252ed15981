// ComputeJob reconcile: decide from the caches, write status (the intent) first, then act.
import {
  GROUP,
  KINDS,
  VERSION,
  computeJobKind,
  validateAs,
  type ComputeCluster,
  type ComputeJob,
} from '../../api/v1alpha1/index.ts';
import { LABELS } from '../../builders/labels.ts';
import { isControlledBy } from '../../builders/owner.ts';
import type { V1Node, V1Pod } from '../../kube/types.ts';
import type { KubeClient } from '../../kube/client.ts';
import { isAlreadyExists, isConflict, isNotFound, errorMessage, isRefused } from '../../kube/errors.ts';
import type { EventRecorder } from '../../kube/events.ts';
import type { ReconcileContext, ReconcileResult, Reconciler } from '../../runtime/controller.ts';
import type { Cache } from '../../runtime/informer.ts';
import { CLUSTER_REF } from '../computecluster/reconciler.ts';
import { stallInvalidSpec, statusEqual } from '../shared/status.ts';
import { decideJob } from './decide.ts';

export const JOB_REF = { group: GROUP, version: VERSION, plural: KINDS.ComputeJob.plural };

export interface JobDeps {
  client: KubeClient;
  clusters: Cache<ComputeCluster>;
  jobs: Cache<ComputeJob>;
  pods: Cache<V1Pod>;
  nodes: Cache<V1Node>;
  events: EventRecorder;
  resyncMs: number;
}

export class ComputeJobReconciler implements Reconciler {
  constructor(private readonly d: JobDeps) {}

  async reconcile(key: string, { log }: ReconcileContext): Promise<ReconcileResult | void> {
    const obj = this.d.jobs.get(key);
    if (!obj || obj.metadata.deletionTimestamp) return;
    const checked = validateAs<ComputeJob>(computeJobKind, obj);
    if (!checked.ok) return stallInvalidSpec(this.d.client, JOB_REF, obj, checked.errors);
    const job = checked.value;
    const ns = job.metadata.namespace!;
    const clusterName = job.spec.clusterRef?.name ?? job.metadata.name!;
    const cluster = this.d.clusters.get(`${ns}/${clusterName}`) as ComputeCluster | undefined;
    const drivers = this.d.pods
      .byIndex('job', key)
      .filter((p) => isControlledBy(p, job.metadata.uid) && p.metadata?.labels?.[LABELS.role] === 'driver');
    const nodes = { get: (name: string) => this.d.nodes.get(name) }; // cluster-scoped: the key is the name
    const now = Date.now();
    const { status, actions, wakeAt } = decideJob(job, cluster, drivers, nodes, now);

    if (!statusEqual(status, obj.status)) {
      await this.d.client.replaceStatus(JOB_REF, { ...obj, status });
    }
    for (const a of actions) {
      try {
        switch (a.kind) {
          case 'createCluster':
            await this.d.client.createCustom(CLUSTER_REF, ns, a.cluster);
            log.info('created ephemeral cluster', { cluster: a.cluster.metadata.name });
            break;
          case 'deleteCluster':
            await this.d.client.deleteCustom(CLUSTER_REF, ns, a.name, a.uid);
            log.info('deleted ephemeral cluster', { cluster: a.name });
            break;
          case 'createDriver':
            await this.d.client.createPod(ns, a.pod);
            log.info('created driver pod', { pod: a.pod.metadata?.name });
            break;
          case 'deleteDriver':
            await this.d.client.deletePod(ns, a.name, a.uid, a.gracePeriodSeconds);
            log.info('deleted driver pod', { pod: a.name });
            break;
          case 'deleteJob':
            await this.d.client.deleteCustom(JOB_REF, ns, job.metadata.name!, job.metadata.uid);
            log.info('deleted finished job (ttlSecondsAfterFinished)');
            return;
          case 'event':
            this.d.events.record(obj, a.type, a.reason, a.message);
            break;
        }
      } catch (e) {
        if (isAlreadyExists(e) || isNotFound(e) || (isConflict(e) && a.kind.startsWith('delete'))) continue; // done already
        if (isRefused(e) && (a.kind === 'createDriver' || a.kind === 'createCluster')) {
          // The API server refused the object: say so in events; the startup deadline decides the attempt.
          this.d.events.record(obj, 'Warning', 'FailedCreate', errorMessage(e));
          log.warn('the API server refused an object', { kind: a.kind, error: errorMessage(e) });
          continue;
        }
        throw e;
      }
    }
    const due = wakeAt !== undefined ? Math.max(0, wakeAt - Date.now()) + 50 : this.d.resyncMs;
    return { requeueAfterMs: Math.min(due, this.d.resyncMs) };
  }
}

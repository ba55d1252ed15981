// ComputeCluster status, computed on a copy from what was observed and planned (pure).
import type { ComputeCluster, ComputeClusterStatus } from '../../api/v1alpha1/index.ts';
import { LABELS, names, roleSelector, selectorString } from '../../builders/labels.ts';
import { masterRevision, workerRevision } from '../../builders/pods.ts';
import { masterPorts } from '../../builders/services.ts';
import { setConditions, type ConditionInput } from '../shared/conditions.ts';
import { isReady, isTerminating } from '../shared/podhealth.ts';
import type { ClusterPlan } from './plan.ts';

export interface StatusInputs {
  plan: ClusterPlan;
  activeJobs: number;
  /** The API server's message when it refused a pod. */
  createError?: string;
  now: Date;
}

export function computeClusterStatus(c: ComputeCluster, s: StatusInputs): ComputeClusterStatus {
  const prev = c.status ?? {};
  const { plan } = s;
  const obs = plan.observed;
  const cluster = c.metadata.name!;
  const desired = plan.desiredWorkers;
  const workers = [...obs.workers.values()].filter((p) => !isTerminating(p));
  const ready = workers.filter(isReady).length;
  const rev = workerRevision(c);
  const updated = workers.filter((p) => p.metadata?.labels?.[LABELS.revision] === rev).length;
  const m = obs.master && !isTerminating(obs.master) ? obs.master : undefined;
  const masterReady = !!m && isReady(m) && !obs.masterProblem;
  const port = masterPorts(c)[0]?.port;
  const suspended = !!c.spec.suspend;
  const recovery = { ...(prev.recovery ?? {}), ...(plan.intent ?? {}) } as Record<string, unknown>;
  delete recovery.masterRestarts;
  delete recovery.clearMasterUid;

  const workersReady = ready >= desired && updated >= Math.min(desired, workers.length) && workers.length === desired;
  const converged = !plan.progress.length && !plan.deletes.length && !plan.creates.length;
  const conds: ConditionInput[] = [];
  const stalled = plan.stalled;
  const readyNow = !suspended && !stalled && masterReady && workersReady;
  conds.push(
    readyNow
      ? { type: 'Ready', status: 'True', reason: 'Ready', message: `master ready, ${ready}/${desired} workers ready` }
      : {
          type: 'Ready',
          status: 'False',
          reason: suspended
            ? 'Suspended'
            : stalled
              ? stalled.reason
              : !masterReady
                ? 'MasterNotReady'
                : 'WorkersNotReady',
          message: suspended
            ? 'the cluster is suspended'
            : stalled
              ? stalled.message
              : `master ${masterReady ? 'ready' : 'not ready'}, ${ready}/${desired} workers ready`,
        },
  );
  conds.push(
    converged && !stalled
      ? { type: 'Reconciling', status: 'False', reason: 'Reconciled', message: 'the pods match the spec' }
      : {
          type: 'Reconciling',
          status: stalled ? 'False' : 'True',
          reason: stalled ? 'Stalled' : 'Progressing',
          message: stalled ? 'waiting for a change (see Stalled)' : plan.progress.join('; ') || 'applying the spec',
        },
  );
  conds.push(
    stalled
      ? { type: 'Stalled', status: 'True', reason: stalled.reason, message: stalled.message }
      : { type: 'Stalled', status: 'False', reason: 'NotStalled', message: '' },
  );
  conds.push(
    masterReady
      ? { type: 'MasterReady', status: 'True', reason: 'PodReady', message: `${names.master(cluster)} is ready` }
      : {
          type: 'MasterReady',
          status: 'False',
          reason: suspended ? 'Suspended' : (obs.masterProblem?.reason ?? (m ? 'PodNotReady' : 'NoMaster')),
          message: obs.masterProblem?.message ?? (m ? `${m.metadata!.name} is not ready` : 'no master pod'),
        },
  );
  conds.push(
    workersReady
      ? { type: 'WorkersReady', status: 'True', reason: 'AllReady', message: `${ready}/${desired} workers ready` }
      : {
          type: 'WorkersReady',
          status: 'False',
          reason: 'NotAllReady',
          message: `${ready}/${desired} workers ready, ${updated} on the current template`,
        },
  );
  conds.push(
    s.createError
      ? { type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: s.createError }
      : { type: 'ReplicaFailure', status: 'False', reason: 'NoFailure', message: '' },
  );
  conds.push(
    suspended
      ? {
          type: 'Suspended',
          status: 'True',
          reason: 'Suspended',
          message: 'spec.suspend is true: pods deleted, Services kept',
        }
      : { type: 'Suspended', status: 'False', reason: 'NotSuspended', message: '' },
  );

  // Degraded: it ran, and now something is broken (not merely being added by a scale-up
  // or a rollout). A cluster still starting up is Pending.
  const hasRun = prev.phase === 'Running' || prev.phase === 'Degraded';
  const broken = !masterReady || obs.problems.size > 0;
  const phase: ComputeClusterStatus['phase'] = suspended
    ? 'Suspended'
    : stalled
      ? 'Failed'
      : readyNow
        ? 'Running'
        : !hasRun
          ? 'Pending'
          : broken
            ? 'Degraded'
            : 'Running';

  const uid = plan.intent?.clearMasterUid ? '' : (m?.metadata?.uid ?? prev.master?.uid ?? '');
  return {
    observedGeneration: c.metadata.generation,
    phase,
    conditions: setConditions(prev.conditions, conds, c.metadata.generation, s.now),
    master: {
      podName: names.master(cluster),
      serviceName: names.masterService(cluster),
      endpoint:
        port !== undefined
          ? `${names.masterService(cluster)}.${c.metadata.namespace}.svc:${port}`
          : `${names.masterService(cluster)}.${c.metadata.namespace}.svc`,
      ready: masterReady,
      restarts: plan.intent?.masterRestarts ?? prev.master?.restarts ?? 0,
      uid,
    },
    workers: {
      replicas: workers.length,
      desiredReplicas: desired,
      readyReplicas: ready,
      updatedReplicas: updated,
      selector: selectorString(roleSelector(cluster, 'worker')),
      summary: `${ready}/${desired}`,
    },
    revision: { master: masterRevision(c), workers: rev },
    recovery: recovery as ComputeClusterStatus['recovery'],
    activeJobs: s.activeJobs,
  };
}

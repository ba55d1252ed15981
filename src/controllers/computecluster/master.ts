// spec.master: keep exactly one master on the current template; when it is lost, recreate it
// (or the whole cluster) within failurePolicy's restart budget and the replacement backoff.
import type { ValidComputeCluster } from '../../api/v1alpha1/index.ts';
import { CLUSTER_REASONS } from '../../api/v1alpha1/reasons.ts';
import { buildMasterPod, isCurrentMaster } from '../../builders/pods.ts';
import { isTerminating } from '../../kube/meta.ts';
import type { V1Pod } from '../../kube/types.ts';
import type { PodProblem } from '../common/podhealth.ts';
import { createPod, deletePod, event, type ClusterAction } from './actions.ts';
import type { Observed } from './observe.ts';
import { recentMasterRestarts, type BackoffGate } from './recovery.ts';

export interface MasterStep {
  actions: ClusterAction[];
  progress: string[];
  stalled?: { reason: string; message: string };
  wakeAt?: number;
  /** The master is recreated now (counts toward maxRestarts and the backoff streak). */
  restart: boolean;
  /** The restart takes every worker with it (failurePolicy.action RestartCluster). */
  restartCluster: boolean;
  /** The current master is going away: its uid leaves status. */
  clearMasterUid: boolean;
  /** Why the master was lost, when it is recreated now. */
  reason?: string;
}

const none = (): MasterStep => ({
  actions: [],
  progress: [],
  restart: false,
  restartCluster: false,
  clearMasterUid: false,
});

/** spec.suspend: the master goes; it comes back when the cluster resumes. */
function suspendMaster(m: V1Pod | undefined): MasterStep {
  if (!m || isTerminating(m)) return none();
  const del = deletePod(m, CLUSTER_REASONS.Suspended, 'cluster suspended');
  return { ...none(), actions: [del], clearMasterUid: true };
}

/** Recreates a lost master (or restarts the cluster), unless the restart budget or the backoff says wait. */
function lostMaster(
  c: ValidComputeCluster,
  obs: Observed,
  prob: PodProblem,
  gate: BackoffGate,
  now: number,
): MasterStep {
  const policy = c.spec.master.failurePolicy;
  const recent = recentMasterRestarts(c, now);
  if (recent.length >= policy.maxRestarts) {
    const message =
      `the master was lost ${recent.length} times within ${policy.windowSeconds}s ` +
      `(maxRestarts ${policy.maxRestarts}); last: ${prob.message}`;
    const wakeAt = Math.min(...recent) + policy.windowSeconds * 1000;
    return { ...none(), stalled: { reason: CLUSTER_REASONS.MasterRestartLimit, message }, wakeAt };
  }
  if (now < gate.allowedAt) {
    return { ...none(), progress: [`master lost (${prob.reason}); recreating after backoff`], wakeAt: gate.allowedAt };
  }
  const restartCluster = policy.action === 'RestartCluster';
  const what = restartCluster ? 'restarting the whole cluster' : 'recreating the master';
  const actions: ClusterAction[] = [
    obs.master ? deletePod(obs.master, prob.reason, prob.message) : createPod(buildMasterPod(c)),
    event('Warning', CLUSTER_REASONS.MasterLost, `${prob.message}; ${what}`),
  ];
  if (restartCluster) {
    const message = 'the master was lost (failurePolicy RestartCluster)';
    for (const w of obs.workers) {
      if (!isTerminating(w)) actions.push(deletePod(w, CLUSTER_REASONS.RestartCluster, message));
    }
  }
  return { ...none(), actions, restart: true, restartCluster, clearMasterUid: true, reason: prob.reason };
}

/** Why an outdated master goes: its revision covers its template and the master port of GAFFER_MASTER_*. */
const MASTER_OUTDATED = 'the master template or the master port changed';

/** The master's template (or its wiring) changed: recreate it. */
function outdatedMaster(m: V1Pod): MasterStep {
  return {
    ...none(),
    actions: [
      deletePod(m, CLUSTER_REASONS.TemplateChanged, MASTER_OUTDATED),
      event('Normal', CLUSTER_REASONS.MasterTemplateChanged, `${MASTER_OUTDATED}; recreating the master`),
    ],
    progress: ['recreating the master on the new template'],
    clearMasterUid: true,
  };
}

/**
 * The master's delete is recorded in status.recovery.retiring but not seen yet (it failed, or
 * the operator was killed before sending it): it is sent again (pendingRetirements), counted
 * already, so no restart is counted and no backoff waited; RestartCluster still holds the workers.
 */
export const retiringMaster = (c: ValidComputeCluster): MasterStep => ({
  ...none(),
  progress: ['recreating the master'],
  restartCluster: c.spec.master.failurePolicy.action === 'RestartCluster',
  clearMasterUid: true,
});

/** `held`: why template changes wait (rolloutHeld in plan.ts); a lost master is replaced anyway. */
export function planMaster(
  c: ValidComputeCluster,
  obs: Observed,
  gate: BackoffGate,
  now: number,
  held?: string,
): MasterStep {
  const m = obs.master;
  if (c.spec.suspend) return suspendMaster(m);
  // It existed, and nobody here retired it: it was deleted behind our back.
  const gone = !m && !!c.status?.master?.uid;
  if (obs.masterProblem || gone) {
    const disappeared = `master pod ${c.status?.master?.podName ?? ''} disappeared`;
    const prob = obs.masterProblem ?? { reason: CLUSTER_REASONS.PodFailed, message: disappeared };
    return lostMaster(c, obs, prob, gate, now);
  }
  if (m && !isTerminating(m) && !isCurrentMaster(c, m, obs.staleWiring)) {
    return held ? { ...none(), progress: [`the outdated master waits: ${held}`] } : outdatedMaster(m);
  }
  if (!m) return { ...none(), actions: [createPod(buildMasterPod(c))], progress: ['creating the master'] };
  return none();
}

// Decides what a ComputeCluster needs, from what is observed (pure; no I/O).
// The reconciler records `intent` in status first, then carries out the actions.
import type { V1Pod } from '../../kube/types.ts';
import type { ComputeCluster, ComputeClusterStatus } from '../../api/v1alpha1/index.ts';
import { LABELS, POD_DELETION_COST } from '../../builders/labels.ts';
import { buildMasterPod, buildWorkerPod, masterRevision, workerRevision } from '../../builders/pods.ts';
import { isReady, isTerminating, podProblem, type NodeLookup, type PodProblem } from '../shared/podhealth.ts';
import { backoffSeconds, iso, ms } from '../shared/time.ts';

export interface PodDelete {
  name: string;
  uid: string;
  reason: string;
  message: string;
  /** Delete at once (grace period 0): the pod's node is lost, no kubelet will ever confirm. */
  force?: boolean;
}
export interface ClusterEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface ClusterPlan {
  desiredWorkers: number;
  /** Status fields to write before acting (crash safety: intent survives a restart). */
  intent?: ComputeClusterStatus['recovery'] & { masterRestarts?: number; clearMasterUid?: boolean };
  deletes: PodDelete[];
  creates: V1Pod[];
  events: ClusterEvent[];
  stalled?: { reason: string; message: string };
  /** The soonest time something is due (backoff, node loss, restart window). */
  wakeAt?: number;
  /** What is being done, for the Reconciling condition. */
  progress: string[];
  observed: Observed;
}

export interface Observed {
  master?: V1Pod;
  masterProblem?: PodProblem;
  /** Worker pods by index, including terminating ones (they still hold their name). */
  workers: Map<number, V1Pod>;
  problems: Map<string, PodProblem>;
}

export function desiredWorkerCount(c: ComputeCluster): number {
  const w = c.spec.workers;
  const min = w.minReplicas ?? 0;
  const max = w.maxReplicas ?? 1000;
  return c.spec.suspend ? 0 : Math.min(max, Math.max(min, w.replicas ?? min));
}

/** maxUnavailable as a count: an integer, or a percentage of desired rounded down (at least 1). */
export function maxUnavailableCount(v: number | string | undefined, desired: number): number {
  if (v === undefined) return 1;
  if (typeof v === 'number') return Math.max(1, v);
  return Math.max(1, Math.floor((desired * Number(v.replace('%', ''))) / 100));
}

/** Scale-down order of api.md: not Ready first, then lowest pod-deletion-cost, then highest index. */
export function scaleDownOrder(pods: { pod: V1Pod; index: number }[]): { pod: V1Pod; index: number }[] {
  const cost = (p: V1Pod) => Number(p.metadata?.annotations?.[POD_DELETION_COST] ?? 0) || 0;
  return [...pods].sort(
    (a, b) => Number(isReady(a.pod)) - Number(isReady(b.pod)) || cost(a.pod) - cost(b.pod) || b.index - a.index,
  );
}

const del = (p: V1Pod, reason: string, message: string): PodDelete => ({
  name: p.metadata!.name!,
  uid: p.metadata!.uid!,
  reason,
  message,
  ...(reason === 'NodeLost' ? { force: true } : {}),
});

export function planCluster(c: ComputeCluster, pods: V1Pod[], nodes: NodeLookup, now: number): ClusterPlan {
  const status = c.status ?? {};
  const recovery = c.spec.podRecovery ?? {};
  const backoff = recovery.backoff ?? {};
  const desired = desiredWorkerCount(c);
  const plan: ClusterPlan = {
    desiredWorkers: desired,
    deletes: [],
    creates: [],
    events: [],
    progress: [],
    observed: { workers: new Map(), problems: new Map() },
  };
  const wake = (t: number | undefined) => {
    if (t !== undefined && (plan.wakeAt === undefined || t < plan.wakeAt)) plan.wakeAt = t;
  };

  // ---- observe ----
  const obs = plan.observed;
  for (const p of pods) {
    const role = p.metadata?.labels?.[LABELS.role];
    if (role === 'master') obs.master = p;
    else if (role === 'worker') {
      const idx = Number(p.metadata?.labels?.[LABELS.workerIndex]);
      if (Number.isInteger(idx) && idx >= 0) obs.workers.set(idx, p);
    }
  }
  for (const p of [obs.master, ...obs.workers.values()]) {
    if (!p) continue;
    if (isTerminating(p)) {
      // A pod terminating on a lost node stays so forever (its kubelet is gone) and keeps its
      // name from the replacement: force it out once the node counts as lost.
      const { problem, nodeLossAt } = podProblem(p, nodes, recovery, now);
      if (problem?.reason === 'NodeLost')
        plan.deletes.push({
          ...del(p, 'NodeLost', `${problem.message}; force-deleting the pod stuck terminating`),
          force: true,
        });
      wake(nodeLossAt);
      continue;
    }
    const { problem, nodeLossAt } = podProblem(p, nodes, recovery, now);
    if (problem) obs.problems.set(p.metadata!.name!, problem);
    wake(nodeLossAt);
  }
  obs.masterProblem = obs.master ? obs.problems.get(obs.master.metadata!.name!) : undefined;

  // ---- the replacement backoff (shared by master and workers) ----
  const lastFailure = ms(status.recovery?.lastFailureTime);
  const streak =
    lastFailure !== undefined && now - lastFailure <= (recovery.resetAfterSeconds ?? 600) * 1000
      ? (status.recovery?.failureStreak ?? 0)
      : 0;
  const allowedAt =
    lastFailure !== undefined && streak > 0 ? lastFailure + backoffSeconds(streak, backoff) * 1000 : now;
  let replaced = 0;
  let lastReason: string | undefined;
  const replace = (p: V1Pod, prob: PodProblem) => {
    plan.deletes.push(del(p, prob.reason, prob.message));
    plan.events.push({ type: 'Warning', reason: prob.reason, message: `${prob.message}; replacing it` });
    replaced++;
    lastReason = prob.reason;
  };

  // ---- master ----
  const suspended = !!c.spec.suspend;
  const m = obs.master;
  const policy = c.spec.master.failurePolicy ?? {};
  let masterRestart = false;
  let clearMasterUid = false;
  const masterGone = !m && !!status.master?.uid; // it existed, and nobody here retired it
  if (suspended) {
    if (m && !isTerminating(m)) {
      plan.deletes.push(del(m, 'Suspended', 'cluster suspended'));
      clearMasterUid = true;
    }
  } else if ((m && obs.masterProblem) || masterGone) {
    const prob: PodProblem = obs.masterProblem ?? {
      reason: 'PodFailed',
      message: `master pod ${status.master?.podName ?? ''} disappeared`,
    };
    const windowMs = (policy.windowSeconds ?? 3600) * 1000;
    const recent = (status.recovery?.masterRestartTimes ?? [])
      .map((t) => ms(t)!)
      .filter((t) => t !== undefined && now - t < windowMs);
    if (recent.length >= (policy.maxRestarts ?? 5)) {
      plan.stalled = {
        reason: 'MasterRestartLimit',
        message: `the master was lost ${recent.length} times within ${policy.windowSeconds ?? 3600}s (maxRestarts ${policy.maxRestarts ?? 5}); last: ${prob.message}`,
      };
      wake(Math.min(...recent) + windowMs);
    } else if (now < allowedAt) {
      plan.progress.push(`master lost (${prob.reason}); recreating after backoff`);
      wake(allowedAt);
    } else {
      masterRestart = true;
      clearMasterUid = true;
      lastReason = prob.reason;
      replaced += m ? 1 : 0;
      if (m) plan.deletes.push(del(m, prob.reason, prob.message));
      else plan.creates.push(buildMasterPod(c));
      const action = policy.action ?? 'RecreateMaster';
      plan.events.push({
        type: 'Warning',
        reason: 'MasterLost',
        message: `${prob.message}; ${action === 'RestartCluster' ? 'restarting the whole cluster' : 'recreating the master'}`,
      });
      if (action === 'RestartCluster') {
        for (const w of obs.workers.values())
          if (!isTerminating(w))
            plan.deletes.push(del(w, 'RestartCluster', 'the master was lost (failurePolicy RestartCluster)'));
      }
    }
  } else if (m && !isTerminating(m) && m.metadata?.labels?.[LABELS.revision] !== masterRevision(c)) {
    plan.deletes.push(del(m, 'TemplateChanged', 'the master template changed'));
    plan.events.push({
      type: 'Normal',
      reason: 'MasterTemplateChanged',
      message: 'the master template changed; recreating the master',
    });
    clearMasterUid = true;
    plan.progress.push('recreating the master on the new template');
  } else if (!m) {
    plan.creates.push(buildMasterPod(c));
    plan.progress.push('creating the master');
  }
  const restartingCluster = masterRestart && (policy.action ?? 'RecreateMaster') === 'RestartCluster';

  // ---- workers: replace the broken ones ----
  const deleting = new Set(plan.deletes.map((d) => d.name));
  const broken = [...obs.workers.values()].filter(
    (p) => !isTerminating(p) && !deleting.has(p.metadata!.name!) && obs.problems.has(p.metadata!.name!),
  );
  if (broken.length && !restartingCluster) {
    if (now < allowedAt) {
      plan.progress.push(`${broken.length} worker(s) to replace after backoff`);
      wake(allowedAt);
    } else {
      for (const p of broken) {
        replace(p, obs.problems.get(p.metadata!.name!)!);
        deleting.add(p.metadata!.name!);
      }
    }
  }

  // ---- workers: scale and roll ----
  const live = [...obs.workers.entries()]
    .filter(([, p]) => !isTerminating(p) && !deleting.has(p.metadata!.name!) && !obs.problems.has(p.metadata!.name!))
    .map(([index, pod]) => ({ index, pod }));
  const waiting = broken.filter((p) => !deleting.has(p.metadata!.name!)).length; // broken, not yet replaced: keep their places
  // Pods on their way out (replaced now, or already terminating) free their index; the
  // replacement takes the same index once they are gone, so no substitute is made elsewhere.
  const leaving = [...obs.workers.values()].filter((p) => isTerminating(p) || deleting.has(p.metadata!.name!)).length;
  if (!restartingCluster) {
    const staying = live.length + waiting;
    const excess = staying - desired;
    if (excess > 0) {
      for (const { pod } of scaleDownOrder(live).slice(0, excess)) {
        plan.deletes.push(del(pod, 'ScaleDown', `scaling workers down to ${desired}`));
        deleting.add(pod.metadata!.name!);
      }
      plan.progress.push(`scaling workers down to ${desired}`);
    } else if (excess < 0) {
      const taken = new Set(obs.workers.keys());
      let missing = Math.max(0, -excess - leaving);
      for (let i = 0; missing > 0; i++) {
        if (taken.has(i)) continue;
        plan.creates.push(buildWorkerPod(c, i, desired));
        missing--;
      }
      plan.progress.push(`${-excess} worker(s) missing`);
    } else {
      const rev = workerRevision(c);
      const outdated = live.filter(({ pod }) => pod.metadata?.labels?.[LABELS.revision] !== rev);
      const type = c.spec.workers.updateStrategy?.type ?? 'RollingUpdate';
      if (outdated.length && type !== 'OnDelete') {
        let budget = outdated.length;
        if (type === 'RollingUpdate') {
          const unavailable =
            live.filter(({ pod }) => !isReady(pod)).length + waiting + Math.max(0, desired - live.length - waiting);
          budget = Math.max(
            0,
            maxUnavailableCount(c.spec.workers.updateStrategy?.maxUnavailable, desired) - unavailable,
          );
        }
        for (const { pod } of scaleDownOrder(outdated).slice(0, budget)) {
          plan.deletes.push(del(pod, 'TemplateChanged', 'the worker template changed'));
        }
        plan.progress.push(`updating ${outdated.length} worker(s) to revision ${rev}`);
      }
    }
  }

  // ---- intent to record before acting ----
  if (replaced || masterRestart || clearMasterUid) {
    const failures = replaced + (masterRestart && !obs.master ? 1 : 0);
    const newStreak = failures ? streak + 1 : streak;
    plan.intent = {
      ...(status.recovery ?? {}),
      ...(failures
        ? {
            podsReplaced: (status.recovery?.podsReplaced ?? 0) + failures,
            lastReason,
            failureStreak: newStreak,
            lastFailureTime: iso(now),
            nextAttemptTime: iso(now + backoffSeconds(newStreak, backoff) * 1000),
          }
        : {}),
      ...(masterRestart
        ? {
            masterRestartTimes: [
              ...(status.recovery?.masterRestartTimes ?? []).filter(
                (t) => now - (ms(t) ?? 0) < (policy.windowSeconds ?? 3600) * 1000,
              ),
              iso(now),
            ],
            masterRestarts: (status.master?.restarts ?? 0) + 1,
          }
        : {}),
      clearMasterUid,
    };
  }
  return plan;
}

// Decides a ComputeJob's next status and actions from what is observed (pure; no I/O).
// The reconciler writes the status first, then acts: intent survives a crash.
import type { V1Pod } from '../../kube/types.ts';
import type { Attempt, ComputeCluster, ComputeJob, ComputeJobStatus, FailureRule } from '../../api/v1alpha1/index.ts';
import { LABELS, names } from '../../builders/labels.ts';
import { isControlledBy } from '../../builders/owner.ts';
import { buildDriverPod } from '../../builders/pods.ts';
import { setConditions, type ConditionInput } from '../shared/conditions.ts';
import { isTerminating, podProblem, type NodeLookup } from '../shared/podhealth.ts';
import { backoffSeconds, formatDuration, iso, ms } from '../shared/time.ts';
import { desiredWorkerCount } from '../computecluster/plan.ts';
import { MAX_ATTEMPT_HISTORY } from '../../api/v1alpha1/computejob.ts';

export type JobAction =
  | { kind: 'createCluster'; cluster: ComputeCluster }
  | { kind: 'deleteCluster'; name: string; uid: string }
  | { kind: 'createDriver'; pod: V1Pod }
  | { kind: 'deleteDriver'; name: string; uid: string; gracePeriodSeconds?: number }
  | { kind: 'deleteJob' }
  | { kind: 'event'; type: 'Normal' | 'Warning'; reason: string; message: string };

export interface JobDecision {
  status: ComputeJobStatus;
  actions: JobAction[];
  wakeAt?: number;
}

const FINISHED = new Set(['Succeeded', 'Failed']);

/** The first failurePolicy rule that matches an attempt's end, or Count. */
export function ruleAction(
  rules: FailureRule[] | undefined,
  exitCode: number | undefined,
  reason: string | undefined,
): FailureRule['action'] {
  for (const r of rules ?? []) {
    if (r.onExitCodes && exitCode !== undefined) {
      const hit = r.onExitCodes.values.includes(exitCode);
      if (r.onExitCodes.operator === 'In' ? hit : !hit) return r.action;
    }
    if (r.onReasons && reason !== undefined && r.onReasons.includes(reason)) return r.action;
  }
  return 'Count';
}

function exitOf(pod: V1Pod): { exitCode?: number; reason?: string; message?: string } {
  const terms = (pod.status?.containerStatuses ?? []).map((c) => c.state?.terminated).filter((t) => t);
  const bad = terms.find((t) => t!.exitCode !== 0) ?? terms[0];
  if (pod.status?.reason === 'Evicted')
    return { exitCode: bad?.exitCode, reason: 'Evicted', message: pod.status.message };
  return {
    exitCode: bad?.exitCode,
    reason: bad?.reason ?? pod.status?.reason ?? 'Failed',
    message: bad?.message ?? pod.status?.message,
  };
}

/** Why a driver pod has not started: the container's waiting reason, or Unschedulable. */
function blockerOf(pod: V1Pod | undefined): { reason: string; message: string } {
  const waiting = pod?.status?.containerStatuses?.map((c) => c.state?.waiting).find((w) => w?.reason);
  if (waiting) return { reason: waiting.reason!, message: waiting.message ?? waiting.reason! };
  const sched = pod?.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (sched)
    return {
      reason: sched.reason ?? 'Unschedulable',
      message: sched.message ?? 'the driver pod could not be scheduled',
    };
  return {
    reason: 'StartupTimeout',
    message: pod ? `driver pod ${pod.metadata?.name} did not start` : 'the driver pod was not created',
  };
}

const clusterReady = (c: ComputeCluster | undefined) =>
  !!c &&
  !!c.status?.master?.uid &&
  c.status?.conditions?.some(
    (x) => x.type === 'Ready' && x.status === 'True' && x.observedGeneration === c.metadata.generation,
  );

export function decideJob(
  job: ComputeJob,
  cluster: ComputeCluster | undefined,
  driverPods: V1Pod[],
  nodes: NodeLookup,
  now: number,
): JobDecision {
  const spec = job.spec;
  const st: ComputeJobStatus = structuredClone(job.status ?? {});
  const actions: JobAction[] = [];
  let wakeAt: number | undefined;
  const wake = (t: number | undefined) => {
    if (t !== undefined && (wakeAt === undefined || t < wakeAt)) wakeAt = t;
  };
  const event = (type: 'Normal' | 'Warning', reason: string, message: string) =>
    actions.push({ kind: 'event', type, reason, message });
  const ephemeral = !!spec.clusterTemplate;
  const clusterName = spec.clusterRef?.name ?? job.metadata.name!;
  const ownedCluster = ephemeral && cluster && isControlledBy(cluster, job.metadata.uid) ? cluster : undefined;
  st.clusterName = clusterName;
  st.observedGeneration = job.metadata.generation;
  st.attempts = [...(st.attempts ?? [])];
  st.attemptCount ??= 0;
  st.failed ??= 0;
  const active =
    st.attempts.length && !st.attempts[st.attempts.length - 1]!.finishTime
      ? st.attempts[st.attempts.length - 1]!
      : undefined;
  const podOf = (a: Attempt) => driverPods.find((p) => p.metadata?.name === a.podName);

  const stopDrivers = () => {
    for (const p of driverPods) {
      if (!isTerminating(p) && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed')
        actions.push({ kind: 'deleteDriver', name: p.metadata!.name!, uid: p.metadata!.uid! });
    }
  };
  const endAttempt = (a: Attempt, fields: Partial<Attempt>) => {
    Object.assign(a, { finishTime: iso(now), ...fields });
  };
  const finish = (phase: 'Succeeded' | 'Failed', reason: string, message: string) => {
    if (active && !active.finishTime) endAttempt(active, { reason, message, counted: false });
    st.phase = phase;
    st.reason = reason;
    st.message = message;
    st.completionTime = iso(now);
    st.duration = formatDuration(now - (ms(st.startTime) ?? now));
    delete st.nextAttemptTime;
    delete st.clusterWaitStartTime;
    event(phase === 'Succeeded' ? 'Normal' : 'Warning', phase === 'Succeeded' ? 'JobSucceeded' : reason, message);
  };
  /** Ends a failed attempt and applies failurePolicy: fail the job, or schedule the retry. */
  const attemptFailed = (a: Attempt, exitCode: number | undefined, reason: string, message: string) => {
    const action = ruleAction(spec.failurePolicy?.rules, exitCode, reason);
    endAttempt(a, { ...(exitCode !== undefined ? { exitCode } : {}), reason, message, counted: action === 'Count' });
    event(
      'Warning',
      'AttemptFailed',
      `attempt ${a.index} failed: ${reason}${exitCode !== undefined ? ` (exit code ${exitCode})` : ''}; ${action === 'Count' ? 'counted' : action === 'Ignore' ? 'not counted' : 'failing the job'}`,
    );
    if (action === 'FailJob')
      return finish(
        'Failed',
        'FailedByRule',
        `attempt ${a.index} failed with ${reason}${exitCode !== undefined ? `, exit code ${exitCode}` : ''}, and a failurePolicy rule says FailJob`,
      );
    if (action === 'Count') st.failed = (st.failed ?? 0) + 1;
    if ((st.failed ?? 0) > (spec.backoffLimit ?? 3))
      return finish(
        'Failed',
        'BackoffLimitExceeded',
        `${st.failed} counted failures exceed backoffLimit ${spec.backoffLimit ?? 3}; last: ${reason}`,
      );
    // Consecutive failed attempts set the delay, counted or not: no hot loop on a flapping master.
    let streak = 0;
    for (
      let i = st.attempts!.length - 1;
      i >= 0 && st.attempts![i]!.reason !== 'Succeeded' && st.attempts![i]!.reason !== 'Suspended';
      i--
    )
      streak++;
    st.nextAttemptTime = iso(now + backoffSeconds(streak, spec.backoff ?? {}) * 1000);
  };

  if (!FINISHED.has(st.phase ?? '')) {
    if (spec.suspend) {
      if (active) {
        endAttempt(active, { reason: 'Suspended', message: 'the job was suspended', counted: false });
        event('Normal', 'Suspended', 'the job was suspended; its driver is stopped');
      }
      stopDrivers();
      if (ownedCluster) actions.push({ kind: 'deleteCluster', name: clusterName, uid: ownedCluster.metadata.uid! });
      st.phase = 'Suspended';
      delete st.startTime;
      delete st.nextAttemptTime;
      delete st.clusterWaitStartTime; // deadlines restart on resume, as batch/v1 Job does
    } else {
      st.startTime ??= iso(now);
      const deadline = spec.activeDeadlineSeconds
        ? (ms(st.startTime) ?? now) + spec.activeDeadlineSeconds * 1000
        : undefined;
      if (deadline !== undefined && now >= deadline) {
        finish(
          'Failed',
          'DeadlineExceeded',
          `the job ran longer than activeDeadlineSeconds ${spec.activeDeadlineSeconds}`,
        );
      } else {
        wake(deadline);
        if (ephemeral && !cluster) actions.push({ kind: 'createCluster', cluster: ephemeralCluster(job) });
        if (ephemeral && cluster && !ownedCluster) {
          finish(
            'Failed',
            'ClusterConflict',
            `a ComputeCluster named ${clusterName} already exists and is not owned by this job`,
          );
        } else if (active) {
          stepActive(active);
        }
        if (!FINISHED.has(st.phase ?? '') && !(st.attempts.length && !st.attempts[st.attempts.length - 1]!.finishTime))
          startOrWait();
      }
    }
  }

  function stepActive(a: Attempt) {
    const pod = podOf(a);
    if (pod && !a.podUID) a.podUID = pod.metadata!.uid;
    const masterUid = cluster?.status?.master?.uid;
    st.phase = 'Running';
    if (!cluster && !ephemeral)
      return finish(
        'Failed',
        'ClusterDeleted',
        `ComputeCluster ${clusterName} was deleted while attempt ${a.index} was running`,
      );
    if (!pod || isTerminating(pod)) {
      if (a.podUID && (!pod || pod.metadata!.uid === a.podUID)) {
        return attemptFailed(a, undefined, 'PodDeleted', `driver pod ${a.podName} was deleted`);
      }
      if (!pod && cluster)
        actions.push({ kind: 'createDriver', pod: buildDriverPod(job, cluster, a.index, desiredWorkerCount(cluster)) });
      return;
    }
    const phase = pod.status?.phase;
    if (phase === 'Succeeded') {
      endAttempt(a, { exitCode: 0, reason: 'Succeeded', counted: false });
      return finish('Succeeded', 'Succeeded', `attempt ${a.index} succeeded`);
    }
    if (phase === 'Failed') {
      const e = exitOf(pod);
      return attemptFailed(a, e.exitCode, e.reason ?? 'Failed', e.message ?? `driver pod ${a.podName} failed`);
    }
    if (cluster && masterUid !== a.masterUID) {
      actions.push({ kind: 'deleteDriver', name: pod.metadata!.name!, uid: pod.metadata!.uid! });
      return attemptFailed(
        a,
        undefined,
        'MasterRestarted',
        `the master of ${clusterName} changed (${a.masterUID} -> ${masterUid || 'none'}) during attempt ${a.index}`,
      );
    }
    const { problem, nodeLossAt } = podProblem(
      pod,
      nodes,
      { nodeLossSeconds: cluster?.spec.podRecovery?.nodeLossSeconds, crashLoop: { maxContainerRestarts: 1e9 } },
      now,
    );
    if (problem?.reason === 'NodeLost') {
      actions.push({ kind: 'deleteDriver', name: pod.metadata!.name!, uid: pod.metadata!.uid!, gracePeriodSeconds: 0 });
      return attemptFailed(a, undefined, 'NodeLost', problem.message);
    }
    wake(nodeLossAt);
    if (phase !== 'Running') {
      const startBy = (ms(a.startTime) ?? now) + (spec.startupDeadlineSeconds ?? 900) * 1000;
      if (now >= startBy) {
        const b = blockerOf(pod);
        actions.push({ kind: 'deleteDriver', name: pod.metadata!.name!, uid: pod.metadata!.uid! });
        return attemptFailed(
          a,
          undefined,
          b.reason,
          `attempt ${a.index} did not start within startupDeadlineSeconds ${spec.startupDeadlineSeconds ?? 900}: ${b.message}`,
        );
      }
      wake(startBy);
    }
  }

  function startOrWait() {
    const next = ms(st.nextAttemptTime);
    if (next !== undefined && now < next) {
      st.phase = 'Retrying';
      wake(next);
      return;
    }
    if (cluster && clusterReady(cluster) && (!ephemeral || ownedCluster)) {
      const index = st.attemptCount ?? 0;
      const a: Attempt = {
        index,
        podName: names.driver(job.metadata.name!, index),
        masterUID: cluster.status!.master!.uid!,
        startTime: iso(now),
      };
      st.attempts!.push(a);
      st.attemptCount = index + 1;
      st.phase = 'Running';
      delete st.nextAttemptTime;
      delete st.clusterWaitStartTime;
      actions.push({ kind: 'createDriver', pod: buildDriverPod(job, cluster, index, desiredWorkerCount(cluster)) });
      event('Normal', 'AttemptStarted', `attempt ${index} started on ${clusterName} (driver ${a.podName})`);
      return;
    }
    st.phase = 'WaitingForCluster';
    st.clusterWaitStartTime ??= iso(now);
    const timeoutAt = (ms(st.clusterWaitStartTime) ?? now) + (spec.clusterReadyTimeoutSeconds ?? 600) * 1000;
    if (now >= timeoutAt) {
      return finish(
        'Failed',
        'ClusterNotReady',
        `ComputeCluster ${clusterName} ${cluster ? 'was not Ready' : 'did not exist'} within clusterReadyTimeoutSeconds ${spec.clusterReadyTimeoutSeconds ?? 600}`,
      );
    }
    wake(timeoutAt);
  }

  // ---- finished: nothing runs any more; the ephemeral cluster and the job's TTL ----
  if (FINISHED.has(st.phase ?? '')) {
    for (const a of st.attempts) if (!a.finishTime) endAttempt(a, { reason: st.reason, counted: false });
    stopDrivers();
    const policy = spec.cleanupPolicy ?? 'Delete';
    if (ownedCluster && (policy === 'Delete' || (policy === 'KeepOnFailure' && st.phase === 'Succeeded'))) {
      if (!ownedCluster.metadata.deletionTimestamp)
        actions.push({ kind: 'deleteCluster', name: clusterName, uid: ownedCluster.metadata.uid! });
    }
    if (spec.ttlSecondsAfterFinished !== undefined) {
      const expires = (ms(st.completionTime) ?? now) + spec.ttlSecondsAfterFinished * 1000;
      if (now >= expires) actions.push({ kind: 'deleteJob' });
      else wake(expires);
    }
  }

  st.attempts = st.attempts.slice(-MAX_ATTEMPT_HISTORY);
  if (!st.attempts.length) delete st.attempts;
  st.phase ??= 'Pending';
  st.conditions = setConditions(job.status?.conditions, jobConditions(st), job.metadata.generation, new Date(now));
  return { status: st, actions, wakeAt };
}

function jobConditions(st: ComputeJobStatus): ConditionInput[] {
  const phase = st.phase ?? 'Pending';
  const done = phase === 'Succeeded' || phase === 'Failed';
  const msg = st.message ?? '';
  const progress: Record<string, string> = {
    Pending: 'starting',
    WaitingForCluster: `waiting for ComputeCluster ${st.clusterName} to be Ready`,
    Running: `attempt ${(st.attemptCount ?? 1) - 1} is running`,
    Retrying: `retrying at ${st.nextAttemptTime}`,
    Suspended: 'suspended',
  };
  return [
    phase === 'Succeeded'
      ? { type: 'Ready', status: 'True', reason: 'Succeeded', message: msg }
      : { type: 'Ready', status: 'False', reason: phase, message: done ? msg : (progress[phase] ?? phase) },
    done || phase === 'Suspended'
      ? { type: 'Reconciling', status: 'False', reason: phase, message: '' }
      : { type: 'Reconciling', status: 'True', reason: phase, message: progress[phase] ?? phase },
    phase === 'Failed'
      ? { type: 'Stalled', status: 'True', reason: st.reason ?? 'Failed', message: msg }
      : { type: 'Stalled', status: 'False', reason: 'NotStalled', message: '' },
    phase === 'Succeeded'
      ? { type: 'Complete', status: 'True', reason: 'Succeeded', message: msg }
      : { type: 'Complete', status: 'False', reason: phase, message: '' },
    phase === 'Failed'
      ? { type: 'Failed', status: 'True', reason: st.reason ?? 'Failed', message: msg }
      : { type: 'Failed', status: 'False', reason: phase, message: '' },
    phase === 'Suspended'
      ? { type: 'Suspended', status: 'True', reason: 'Suspended', message: 'spec.suspend is true' }
      : { type: 'Suspended', status: 'False', reason: 'NotSuspended', message: '' },
  ];
}

/** The ComputeCluster a clusterTemplate job runs on: named after the job, owned by it. */
export function ephemeralCluster(job: ComputeJob): ComputeCluster {
  const t = job.spec.clusterTemplate!;
  return {
    apiVersion: 'compute.gaffer.dev/v1alpha1',
    kind: 'ComputeCluster',
    metadata: {
      name: job.metadata.name,
      namespace: job.metadata.namespace,
      labels: {
        ...(t.metadata?.labels ?? {}),
        [LABELS.job]: job.metadata.name!,
        'app.kubernetes.io/managed-by': 'gaffer',
      },
      annotations: t.metadata?.annotations ?? {},
      ownerReferences: [
        {
          apiVersion: 'compute.gaffer.dev/v1alpha1',
          kind: 'ComputeJob',
          name: job.metadata.name!,
          uid: job.metadata.uid!,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: structuredClone(t.spec),
  };
}

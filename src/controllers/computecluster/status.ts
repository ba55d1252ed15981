// ComputeCluster status, computed on a copy from what was observed and planned (pure).
import type { ComputeClusterStatus, ValidComputeCluster } from '../../api/v1alpha1/index.ts';
import { CLUSTER_REASONS as R, CONDITIONS, external } from '../../api/v1alpha1/reasons.ts';
import { buildBudgets } from '../../builders/budgets.ts';
import { desiredCount, groupNamed, namedGroupNames, workerGroups, type WorkerGroup } from '../../builders/groups.ts';
import { LABELS, names, roleSelector, selectorString } from '../../builders/labels.ts';
import { isCurrentWorker, masterRevision, workerRevision } from '../../builders/pods.ts';
import { masterPorts } from '../../builders/services.ts';
import { isTerminating, nameOf, uidOf } from '../../kube/meta.ts';
import type { V1Pod } from '../../kube/types.ts';
import { setConditions, type ConditionInput } from '../common/conditions.ts';
import { isReady } from '../common/podhealth.ts';
import { gangScheduled } from './gang.ts';
import type { ClusterPlan } from './plan.ts';
import type { QueueStatus } from './queue.ts';
import { RUNNING_UNQUEUED } from '../common/queue.ts';

export interface StatusInputs {
  plan: ClusterPlan;
  activeJobs: number;
  /** The API server's message when it refused a pod. */
  createError?: string;
  /** Pods holding names the cluster needs that it cannot adopt (claim.ts conflictMessage). */
  podConflict?: string;
  /** The API server's message when it refused a Service. */
  serviceError?: string;
  /** The API server's message when it refused a PodDisruptionBudget. */
  budgetError?: string;
  /** Why the gang's PodGroup could not be applied (spec.scheduling.gang). */
  podGroupError?: string;
  /** Queued with Kueue: why it waits, or that it was admitted (queue.ts). */
  queue?: QueueStatus;
  now: Date;
}

/** One group's counts (status.workers for the default group, status.workerGroups[] for the others). */
interface GroupTally {
  name: string;
  desired: number;
  workers: number;
  ready: number;
  updated: number;
  revision: string;
}

/** Counts that several conditions and fields are made of; desired, workers, ready, updated total every group. */
interface Tally {
  groups: GroupTally[];
  desired: number;
  workers: number;
  ready: number;
  updated: number;
  masterReady: boolean;
  workersReady: boolean;
  suspended: boolean;
  /** Queued with Kueue and not admitted (the planner sees it suspended). */
  queued?: { reason: string; message: string };
  stalled?: { reason: string; message: string };
  serviceError?: string;
  readyNow: boolean;
}

function groupTally(c: ValidComputeCluster, obs: ClusterPlan['observed'], g: WorkerGroup): GroupTally {
  const workers = [...(obs.groups.get(g.name)?.values() ?? [])].filter((p) => !isTerminating(p));
  return {
    name: g.name,
    desired: desiredCount(c, g),
    workers: workers.length,
    ready: workers.filter(isReady).length,
    updated: workers.filter((p) => isCurrentWorker(c, p, obs.staleWiring)).length,
    revision: workerRevision(c, g),
  };
}

/** A group is ready with exactly its desired workers, all Ready and on the current revision. */
const groupReady = (g: GroupTally) =>
  g.ready >= g.desired && g.updated >= Math.min(g.desired, g.workers) && g.workers === g.desired;

const sum = (gs: GroupTally[], k: 'desired' | 'workers' | 'ready' | 'updated') => gs.reduce((n, g) => n + g[k], 0);

/** The master as status tells it: not one terminating, nor one deleted by us that the cache does not show so yet. */
function liveMaster(plan: ClusterPlan): V1Pod | undefined {
  const seen = plan.observed.master;
  return seen && !isTerminating(seen) && !plan.deleting?.has(uidOf(seen)) ? seen : undefined;
}

function tally(
  c: ValidComputeCluster,
  plan: ClusterPlan,
  serviceError: string | undefined,
  queue?: QueueStatus,
): Tally {
  const obs = plan.observed;
  const groups = workerGroups(c).map((g) => groupTally(c, obs, g));
  const [desired, workers, ready, updated] = (['desired', 'workers', 'ready', 'updated'] as const).map((k) =>
    sum(groups, k),
  ) as [number, number, number, number];
  const m = liveMaster(plan);
  const masterReady = !!m && isReady(m) && !obs.masterProblem;
  // Workers of a removed group are deleted: the cluster is not ready until they are (terminating
  // ones are not counted, as for any group: one held by a finalizer must not keep it unready).
  const leftovers = [...obs.groups].some(
    ([name, pods]) => !groupNamed(c, name) && [...pods.values()].some((p) => !isTerminating(p)),
  );
  const workersReady = groups.every(groupReady) && !leftovers;
  const queued = queue?.waiting;
  const suspended = c.spec.suspend && !queued;
  // A pod that does not start stalls the cluster as a restart limit does (both wait for a fix).
  const blocked = plan.startupBlocked && { reason: plan.startupBlocked.reason, message: plan.startupBlocked.message };
  const stalled = plan.stalled ?? (suspended ? undefined : blocked);
  // Without its Services the cluster cannot be reached (GAFFER_MASTER_ADDR is the master Service).
  const readyNow = !c.spec.suspend && !stalled && !serviceError && masterReady && workersReady;
  const counts = { groups, desired, workers, ready, updated };
  return { ...counts, masterReady, workersReady, suspended, queued, stalled, serviceError, readyNow };
}

function readyCondition(t: Tally): ConditionInput {
  const counts = `${t.ready}/${t.desired} workers ready`;
  if (t.readyNow)
    return { type: CONDITIONS.Ready, status: 'True', reason: R.Ready, message: `master ready, ${counts}` };
  if (t.suspended)
    return { type: CONDITIONS.Ready, status: 'False', reason: R.Suspended, message: 'the cluster is suspended' };
  if (t.queued) return { type: CONDITIONS.Ready, status: 'False', reason: R.Queued, message: t.queued.message };
  if (t.stalled)
    return { type: CONDITIONS.Ready, status: 'False', reason: t.stalled.reason, message: t.stalled.message };
  if (t.serviceError)
    return { type: CONDITIONS.Ready, status: 'False', reason: R.ServiceRefused, message: t.serviceError };
  const reason = t.masterReady ? R.WorkersNotReady : R.MasterNotReady;
  const message = `master ${t.masterReady ? 'ready' : 'not ready'}, ${counts}`;
  return { type: CONDITIONS.Ready, status: 'False', reason, message };
}

function reconcilingCondition(plan: ClusterPlan): ConditionInput {
  const type = CONDITIONS.Reconciling;
  // A pod that does not start leaves the rest going on (a rollout, a scale-up): said as it is.
  if (plan.stalled) return { type, status: 'False', reason: R.Stalled, message: 'waiting for a change (see Stalled)' };
  if (!plan.progress.length && !plan.actions.some((a) => a.kind !== 'event')) {
    return { type, status: 'False', reason: R.Reconciled, message: 'the pods match the spec' };
  }
  return { type, status: 'True', reason: R.Progressing, message: plan.progress.join('; ') || 'applying the spec' };
}

function masterCondition(c: ValidComputeCluster, plan: ClusterPlan, t: Tally): ConditionInput {
  const type = CONDITIONS.MasterReady;
  if (t.masterReady)
    return { type, status: 'True', reason: R.PodReady, message: `${names.master(nameOf(c))} is ready` };
  const m = liveMaster(plan);
  const problem = plan.observed.masterProblem;
  const fallback = m
    ? { reason: R.PodNotReady, message: `${nameOf(m)} is not ready` }
    : { reason: R.NoMaster, message: 'no master pod' };
  const reason = (t.suspended && R.Suspended) || (t.queued && R.Queued) || problem?.reason || fallback.reason;
  return { type, status: 'False', reason, message: problem?.message ?? fallback.message };
}

/** ReplicaFailure=True: the API server refused a pod, else a name is held by a pod the cluster cannot adopt. */
function replicaFailure(s: StatusInputs): ConditionInput | undefined {
  const type = CONDITIONS.ReplicaFailure;
  if (s.createError) return { type, status: 'True', reason: R.FailedCreate, message: s.createError };
  if (s.podConflict) return { type, status: 'True', reason: R.PodConflict, message: s.podConflict };
  return undefined;
}

/** The master and workers Services: applied, or refused with the API server's message. */
function servicesCondition(t: Tally): ConditionInput {
  const type = CONDITIONS.ServicesReady;
  if (t.serviceError) return { type, status: 'False', reason: R.ServiceRefused, message: t.serviceError };
  return { type, status: 'True', reason: R.ServicesApplied, message: 'the master and workers Services are applied' };
}

/** The budgets the spec asks for: applied, or refused with the API server's message (the pods go on regardless). */
function budgetsCondition(c: ValidComputeCluster, s: StatusInputs): ConditionInput {
  const type = CONDITIONS.DisruptionBudgetsReady;
  if (s.budgetError) return { type, status: 'False', reason: R.BudgetRefused, message: s.budgetError };
  const n = buildBudgets(c).length;
  const message = n ? `${n} PodDisruptionBudget(s) applied` : 'no disruption budget is asked for';
  return { type, status: 'True', reason: R.BudgetsApplied, message };
}

function conditions(c: ValidComputeCluster, s: StatusInputs, t: Tally): ConditionInput[] {
  const counts = `${t.ready}/${t.desired} workers ready`;
  const off = (type: string, reason: string): ConditionInput => ({ type, status: 'False', reason, message: '' });
  return [
    readyCondition(t),
    reconcilingCondition(s.plan),
    t.stalled ? { type: CONDITIONS.Stalled, status: 'True', ...t.stalled } : off(CONDITIONS.Stalled, R.NotStalled),
    masterCondition(c, s.plan, t),
    t.workersReady
      ? { type: CONDITIONS.WorkersReady, status: 'True', reason: R.AllReady, message: counts }
      : {
          type: CONDITIONS.WorkersReady,
          status: 'False',
          reason: R.NotAllReady,
          message: `${counts}, ${t.updated} on the current template`,
        },
    servicesCondition(t),
    budgetsCondition(c, s),
    // Only with a gang: the condition is absent otherwise.
    ...[gangScheduled(c, s.plan.observed, s.podGroupError, s.now.getTime()).condition].filter(
      (k): k is ConditionInput => !!k,
    ),
    replicaFailure(s) ?? off(CONDITIONS.ReplicaFailure, R.NoFailure),
    t.suspended
      ? {
          type: CONDITIONS.Suspended,
          status: 'True',
          reason: R.Suspended,
          message: 'spec.suspend is true: pods deleted, Services kept',
        }
      : off(CONDITIONS.Suspended, R.NotSuspended),
    ...[queuedCondition(s.queue)].filter((k): k is ConditionInput => !!k),
  ];
}

/** Only for a cluster queued with Kueue: True while it waits, with Kueue's reason and message; False once admitted. */
function queuedCondition(q: QueueStatus | undefined): ConditionInput | undefined {
  const type = CONDITIONS.Queued;
  if (!q) return undefined;
  if (q.waiting) return { type, status: 'True', reason: external(q.waiting.reason), message: q.waiting.message };
  if (q.suspended) return { type, status: 'False', reason: R.Suspended, message: q.suspended };
  if (q.unqueued) return { type, status: 'False', reason: external(RUNNING_UNQUEUED), message: q.unqueued };
  const message = ['admitted by Kueue', ...(q.held ?? [])].join('; ');
  return { type, status: 'False', reason: R.Admitted, message };
}

/**
 * Pending until first Ready; Degraded once it has run and something is broken (not merely
 * being added by a scale-up or a rollout); Failed when stalled by the restart limit (a pod that
 * does not start leaves it Pending or Degraded: it may yet start).
 */
function phaseOf(prev: ComputeClusterStatus, plan: ClusterPlan, t: Tally): ComputeClusterStatus['phase'] {
  if (t.suspended) return 'Suspended';
  if (t.queued) return 'Queued';
  if (plan.stalled) return 'Failed';
  if (t.readyNow) return 'Running';
  const hasRun = prev.phase === 'Running' || prev.phase === 'Degraded';
  if (!hasRun) return 'Pending';
  const broken = !t.masterReady || plan.observed.problems.size > 0 || !!plan.startupBlocked;
  return broken ? 'Degraded' : 'Running';
}

function masterStatus(c: ValidComputeCluster, plan: ClusterPlan, t: Tally): ComputeClusterStatus['master'] {
  const cluster = nameOf(c);
  const prev = c.status?.master;
  const m = liveMaster(plan);
  const port = masterPorts(c)[0]?.port;
  const host = `${names.masterService(cluster)}.${c.metadata.namespace}.svc`;
  const liveUid = m ? uidOf(m) : '';
  return {
    podName: names.master(cluster),
    serviceName: names.masterService(cluster),
    endpoint: port !== undefined ? `${host}:${port}` : host,
    ready: t.masterReady,
    restarts: plan.intent?.masterRestarts ?? prev?.restarts ?? 0,
    uid: plan.intent?.clearMasterUid ? '' : liveUid || prev?.uid || '',
  };
}

/**
 * The scale subresource's selector: the default group's workers. Those of older operators carry
 * no group label, so it excludes the named groups instead of requiring worker; with no named
 * group it is the plain role selector it always was.
 */
function defaultGroupSelector(c: ValidComputeCluster): string {
  const base = selectorString(roleSelector(nameOf(c), 'worker'));
  const named = namedGroupNames(c);
  return named.length ? `${base},${LABELS.workerGroup} notin (${named.join(',')})` : base;
}

export function computeClusterStatus(c: ValidComputeCluster, s: StatusInputs): ComputeClusterStatus {
  const prev = c.status ?? {};
  const t = tally(c, s.plan, s.serviceError, s.queue);
  const [byDefault, ...named] = t.groups as [GroupTally, ...GroupTally[]];
  return {
    observedGeneration: c.metadata.generation,
    phase: phaseOf(prev, s.plan, t),
    conditions: setConditions(prev.conditions, conditions(c, s, t), c.metadata.generation, s.now),
    master: masterStatus(c, s.plan, t),
    workers: {
      replicas: byDefault.workers,
      desiredReplicas: byDefault.desired,
      readyReplicas: byDefault.ready,
      updatedReplicas: byDefault.updated,
      selector: defaultGroupSelector(c),
      summary: `${t.ready}/${t.desired}`,
    },
    ...(named.length
      ? {
          workerGroups: named.map((g) => ({
            name: g.name,
            replicas: g.workers,
            desiredReplicas: g.desired,
            readyReplicas: g.ready,
            updatedReplicas: g.updated,
            revision: g.revision,
          })),
        }
      : {}),
    revision: { master: masterRevision(c), workers: byDefault.revision },
    recovery: s.plan.recovery ?? {},
    activeJobs: s.activeJobs,
  };
}

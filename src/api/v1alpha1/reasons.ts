// Every reason Gaffer writes, in one place: condition reasons and Event reasons are part of
// the API (users alert on them, failurePolicy rules match them), so they are named once
// here and typed, and docs/api.md lists them.

/** Condition types of both kinds (kstatus: Ready, Reconciling, Stalled, plus each kind's own). */
export const CONDITIONS = {
  Ready: 'Ready',
  Reconciling: 'Reconciling',
  Stalled: 'Stalled',
  Suspended: 'Suspended',
  // ComputeCluster
  MasterReady: 'MasterReady',
  WorkersReady: 'WorkersReady',
  ReplicaFailure: 'ReplicaFailure',
  ServicesReady: 'ServicesReady',
  DisruptionBudgetsReady: 'DisruptionBudgetsReady',
  /** Only with spec.scheduling.gang: whether the gang is bound. */
  Scheduled: 'Scheduled',
  // ComputeJob
  Complete: 'Complete',
  Failed: 'Failed',
  /** Only for a job or cluster labelled kueue.x-k8s.io/queue-name: True while Kueue has not admitted it. */
  Queued: 'Queued',
} as const;
export type ConditionType = (typeof CONDITIONS)[keyof typeof CONDITIONS];

/** What is wrong with a pod that its kubelet will not fix (controllers/common/podhealth.ts). */
export const POD_PROBLEMS = {
  Evicted: 'Evicted',
  PodFailed: 'PodFailed',
  PodSucceeded: 'PodSucceeded',
  CrashLoop: 'CrashLoop',
  NodeLost: 'NodeLost',
} as const;
export type PodProblemReason = (typeof POD_PROBLEMS)[keyof typeof POD_PROBLEMS];

/** Reasons both kinds use in their kstatus conditions and events. */
const COMMON_REASONS = {
  Stalled: 'Stalled',
  NotStalled: 'NotStalled',
  Suspended: 'Suspended',
  NotSuspended: 'NotSuspended',
  InvalidSpec: 'InvalidSpec',
  FailedCreate: 'FailedCreate',
  /**
   * A pod holds a name Gaffer must create and cannot be adopted: ReplicaFailure (a cluster's),
   * Ready/Reconciling (a job's driver), and a Warning event. Never deleted by Gaffer.
   */
  PodConflict: 'PodConflict',
  /** A Normal event: an orphan pod with Gaffer's labels for exactly its name was adopted. */
  PodAdopted: 'PodAdopted',
  // Queued (queued with Kueue): waiting for admission (Kueue's reason where it gave one), admitted
  Queued: 'Queued',
  Admitted: 'Admitted',
} as const;

/** Reasons of ComputeCluster conditions and events. */
export const CLUSTER_REASONS = {
  ...COMMON_REASONS,
  ...POD_PROBLEMS,
  // Ready / MasterReady / WorkersReady
  Ready: 'Ready',
  MasterNotReady: 'MasterNotReady',
  WorkersNotReady: 'WorkersNotReady',
  PodReady: 'PodReady',
  PodNotReady: 'PodNotReady',
  NoMaster: 'NoMaster',
  AllReady: 'AllReady',
  NotAllReady: 'NotAllReady',
  // Reconciling / Stalled / ReplicaFailure
  Reconciled: 'Reconciled',
  Progressing: 'Progressing',
  MasterRestartLimit: 'MasterRestartLimit',
  NoFailure: 'NoFailure',
  /**
   * Stalled/Ready of a cluster with a pod past podRecovery.startupDeadlineSeconds that nothing says
   * why (else the kubelet's or scheduler's reason, such as Unschedulable or ImagePullBackOff).
   */
  StartupTimeout: 'StartupTimeout',
  // ServicesReady (and Ready): the API server refused a Service, or both are applied
  ServiceRefused: 'ServiceRefused',
  ServicesApplied: 'ServicesApplied',
  // DisruptionBudgetsReady: the API server refused a PodDisruptionBudget, or all asked for are applied
  BudgetRefused: 'BudgetRefused',
  BudgetsApplied: 'BudgetsApplied',
  // Scheduled (spec.scheduling.gang): bound, still being placed, timed out (else the scheduler's
  // own reason, such as Unschedulable), or the PodGroup refused
  GangScheduled: 'GangScheduled',
  Scheduling: 'Scheduling',
  GangTimeout: 'GangTimeout',
  PodGroupRefused: 'PodGroupRefused',
  // Events, and why a pod was deleted (logs)
  MasterLost: 'MasterLost',
  MasterTemplateChanged: 'MasterTemplateChanged',
  TemplateChanged: 'TemplateChanged',
  RestartCluster: 'RestartCluster',
  ScaleDown: 'ScaleDown',
  /** A worker of a group taken out of spec.workerGroups is deleted. */
  WorkerGroupRemoved: 'WorkerGroupRemoved',
  /** A Warning event: a pod did not start (startupDeadlineSeconds, or an image error at once). */
  PodStartupBlocked: 'PodStartupBlocked',
} as const;
export type ClusterReason = (typeof CLUSTER_REASONS)[keyof typeof CLUSTER_REASONS];

/**
 * Why Kubernetes took a pod away, from its `DisruptionTarget` condition (the reasons the batch/v1
 * Job controller's podFailurePolicy matches): Eviction API (`kubectl drain`), scheduler
 * preemption, the taint manager (a NoExecute taint), the kubelet (node pressure, node shutdown).
 */
export const DISRUPTION_REASONS = {
  EvictionByEvictionAPI: 'EvictionByEvictionAPI',
  PreemptionByScheduler: 'PreemptionByScheduler',
  DeletionByTaintManager: 'DeletionByTaintManager',
  TerminationByKubelet: 'TerminationByKubelet',
} as const;

/**
 * Why an attempt ended other than by the driver's own exit: these are what failurePolicy
 * rules' `onReasons` match (with the kubelet's waiting reasons, such as ImagePullBackOff).
 */
export const ATTEMPT_END_REASONS = {
  Succeeded: 'Succeeded',
  Failed: 'Failed',
  Evicted: 'Evicted',
  MasterRestarted: 'MasterRestarted',
  NodeLost: 'NodeLost',
  PodDeleted: 'PodDeleted',
  Suspended: 'Suspended',
  /** Kueue preempted the job's Workload (for a job of higher priority, or to reclaim quota): not counted. */
  Preempted: 'Preempted',
  /** Kueue evicted the job's Workload for another reason (deactivated, an admission check): not counted. */
  Requeued: 'Requeued',
  StartupTimeout: 'StartupTimeout',
  Unschedulable: 'Unschedulable',
  ...DISRUPTION_REASONS,
} as const;

/** Reasons of ComputeJob status, conditions and events. */
export const JOB_REASONS = {
  ...COMMON_REASONS,
  ...ATTEMPT_END_REASONS,
  // status.reason of a finished job
  FailedByRule: 'FailedByRule',
  BackoffLimitExceeded: 'BackoffLimitExceeded',
  DeadlineExceeded: 'DeadlineExceeded',
  ClusterConflict: 'ClusterConflict',
  ClusterNotReady: 'ClusterNotReady',
  ClusterDeleted: 'ClusterDeleted',
  // Ready/Reconciling of a job waiting for a same-named cluster that is going away
  WaitingForClusterDeletion: 'WaitingForClusterDeletion',
  // Ready/Reconciling of a job whose driver, never created, lost its master: waiting for the next
  WaitingForMaster: 'WaitingForMaster',
  // Ready/Reconciling of a job whose next attempt waits for an earlier attempt's driver to stop
  WaitingForDriverStop: 'WaitingForDriverStop',
  // events
  JobSucceeded: 'JobSucceeded',
  AttemptStarted: 'AttemptStarted',
  AttemptFailed: 'AttemptFailed',
} as const;
export type JobReason = (typeof JOB_REASONS)[keyof typeof JOB_REASONS];

/**
 * Attempt ends that are not the driver's fault: the default `Ignore` rule of failurePolicy
 * (disruptions too, as the Job controller's DisruptionTarget rule: `kubectl drain` must not
 * use up backoffLimit).
 */
export const DEFAULT_IGNORED_REASONS: string[] = [
  ATTEMPT_END_REASONS.MasterRestarted,
  ATTEMPT_END_REASONS.NodeLost,
  ATTEMPT_END_REASONS.Evicted,
  ...Object.values(DISRUPTION_REASONS),
];

/**
 * A reason as written to a condition or an Event: one of Gaffer's own, a job phase, or a
 * reason reported by the kubelet or scheduler (a container's waiting reason, for example)
 * that Gaffer passes on as it is.
 */
export type Reason = ClusterReason | JobReason | ExternalReason;
/** A reason coming from another component, passed on verbatim (see `external`). */
export type ExternalReason = string & { readonly __external: unique symbol };
/** Marks a reason taken from another component's status (kubelet, scheduler) as such. */
export const external = (reason: string): ExternalReason => reason as ExternalReason;

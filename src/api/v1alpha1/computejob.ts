// ComputeJob: a driver run against a ComputeCluster, shared or ephemeral (docs/api.md).
import { backoffField, conditionsSchema } from './common.ts';
import { clusterSpecSchema, groupNamesFit, templateMetadataSchema } from './computecluster.ts';
import { bool, int, list, obj, oneOf, opt, str, time, type Resolved, type Rule, type Static } from './dsl.ts';
import { MAX_JOB_NAME_LENGTH } from './group.ts';
import { podTemplate } from './podtemplate.ts';
import { DEFAULT_IGNORED_REASONS } from './reasons.ts';

export { DEFAULT_IGNORED_REASONS };
export const FAILURE_ACTIONS = ['FailJob', 'Ignore', 'Count'] as const;

const failureRule = obj(
  {
    action: oneOf(FAILURE_ACTIONS, {
      description:
        'FailJob: fail the job now (reason FailedByRule). Ignore: retry without counting. Count: retry and count toward backoffLimit.',
    }),
    onExitCodes: opt(
      obj(
        {
          operator: oneOf(['In', 'NotIn'] as const, {
            description: 'In: the exit code is one of values. NotIn: it is none of them.',
          }),
          values: list(int({ minimum: 0, maximum: 255 }), {
            maxItems: 255,
            minItems: 1,
            listType: 'set',
            description: 'Exit codes, 0 to 255.',
          }),
        },
        {
          description:
            "Matches the driver's exit code (the first non-zero one among its containers); an attempt that ended without one, such as MasterRestarted, never matches.",
        },
      ),
    ),
    onReasons: opt(
      list(str({ maxLength: 128 }), {
        maxItems: 32,
        minItems: 1,
        listType: 'set',
        description:
          'Matches the attempt end reason, such as MasterRestarted, NodeLost, Evicted, EvictionByEvictionAPI, PreemptionByScheduler, DeletionByTaintManager, TerminationByKubelet, PodDeleted, OOMKilled, Error, ImagePullBackOff, Unschedulable.',
      }),
    ),
  },
  {
    rules: [
      {
        rule: 'has(self.onExitCodes) != has(self.onReasons)',
        message: 'a failurePolicy rule needs exactly one of onExitCodes and onReasons',
        check: (r: { onExitCodes?: unknown; onReasons?: unknown }) =>
          (r.onExitCodes === undefined) !== (r.onReasons === undefined),
      },
    ],
  },
);
export type FailureRule = Static<typeof failureRule>;

const restartPolicyNever: Rule<{ spec?: { restartPolicy?: string } }> = {
  rule: "!has(self.spec) || !has(self.spec.restartPolicy) || self.spec.restartPolicy == 'Never'",
  message:
    'the driver is retried by the ComputeJob, not the kubelet: spec.template.spec.restartPolicy must be Never (or unset)',
  fieldPath: '.spec.restartPolicy',
  check: (t) => t.spec?.restartPolicy === undefined || t.spec.restartPolicy === 'Never',
};

const clusterFields = {
  clusterRef: opt(
    obj(
      { name: str({ minLength: 1, maxLength: 63, description: 'Name of the ComputeCluster.' }) },
      {
        description:
          'Run on an existing ComputeCluster in the same namespace; exactly one of clusterRef and clusterTemplate.',
      },
    ),
  ),
  clusterTemplate: opt(
    obj(
      {
        metadata: opt(templateMetadataSchema),
        spec: clusterSpecSchema(
          'Spec of the ephemeral cluster: a ComputeClusterSpec, defaulted and validated as one (docs/api.md, ComputeCluster).',
        ),
      },
      {
        description:
          'Run on an ephemeral ComputeCluster named after the job and owned by it, created once (later edits do not reach a running cluster); cleanupPolicy decides its end. Exactly one of clusterRef and clusterTemplate.',
      },
    ),
  ),
};

const retryFields = {
  backoffLimit: opt(
    int({
      minimum: 0,
      maximum: 1000,
      description:
        'Counted failed attempts allowed: the job fails with BackoffLimitExceeded when counted failures exceed it (0: at the first counted failure).',
    }),
    { default: 3 },
  ),
  backoff: backoffField(
    'Delay before the next attempt (phase Retrying): initialSeconds after the first failed attempt, doubling with each consecutive failed attempt, counted or not, up to maxSeconds.',
  ),
  failurePolicy: opt(
    obj(
      {
        rules: opt(
          list(failureRule, {
            maxItems: 20,
            description:
              'Judge a failed attempt by its exit code or end reason: the first matching rule wins, no match counts it (Count). Rules you write replace the default, so keep its Ignore rule if you want it.',
          }),
          { default: [{ action: 'Ignore', onReasons: DEFAULT_IGNORED_REASONS }] },
        ),
      },
      { description: 'How a failed attempt is judged: fail the job, retry without counting, or count it.' },
    ),
    { default: {} },
  ),
};

const deadlineFields = {
  activeDeadlineSeconds: opt(
    int({
      minimum: 1,
      format: 'int64',
      description:
        'Seconds the whole job may take, retries included, from status.startTime (restarted on resume); then it fails with DeadlineExceeded and its driver is stopped. Unset: no limit.',
    }),
  ),
  startupDeadlineSeconds: opt(
    int({
      minimum: 1,
      maximum: 86400,
      description:
        'Seconds an attempt may take to reach Running; then it fails with the blocker as its reason (ImagePullBackOff, Unschedulable, ..., or StartupTimeout) and its driver is deleted.',
    }),
    { default: 900 },
  ),
  clusterReadyTimeoutSeconds: opt(
    int({
      minimum: 1,
      maximum: 86400,
      description:
        'Seconds the job waits (phase WaitingForCluster) for its cluster to exist and be Ready before an attempt; then it fails with ClusterNotReady.',
    }),
    { default: 600 },
  ),
};

const lifecycleFields = {
  suspend: opt(
    bool({
      description:
        'true: end the running attempt (not counted), stop its driver and delete an ephemeral cluster; false: resume, with the deadlines restarted.',
    }),
    { default: false },
  ),
  ttlSecondsAfterFinished: opt(
    int({
      minimum: 0,
      format: 'int64',
      description:
        'Seconds after completion when the finished job is deleted, with what it owns (driver pods, ephemeral cluster). Unset: kept.',
    }),
  ),
  cleanupPolicy: opt(
    oneOf(['Delete', 'KeepOnFailure', 'Keep'] as const, {
      description:
        'The ephemeral cluster when the job finishes: Delete it; KeepOnFailure: delete it only if the job succeeded; Keep it (until the job is deleted).',
    }),
    { default: 'Delete' },
  ),
};

export const computeJobSpecSchema = obj(
  {
    ...clusterFields,
    template: podTemplate({
      description:
        'Pod template of the driver, run once per attempt as <job>-driver-<attempt>; restartPolicy must be Never or unset (the job retries, not the kubelet).',
      rules: [restartPolicyNever],
    }),
    ...retryFields,
    ...deadlineFields,
    ...lifecycleFields,
  },
  {
    description:
      'Desired state: the cluster to run on, the driver and how attempts are retried. The operator never writes it.',
    rules: [
      {
        rule: 'has(self.clusterRef) != has(self.clusterTemplate)',
        message:
          'set exactly one of spec.clusterRef (an existing cluster) and spec.clusterTemplate (an ephemeral cluster)',
        check: (s: { clusterRef?: unknown; clusterTemplate?: unknown }) =>
          (s.clusterRef === undefined) !== (s.clusterTemplate === undefined),
      },
    ],
  },
);
export type ComputeJobSpec = Static<typeof computeJobSpecSchema>;
/** The spec once validated: every field with a schema default is present, clusterTemplate.spec's too (validateJob). */
export type ResolvedComputeJobSpec = Resolved<typeof computeJobSpecSchema>;

const attemptSchema = obj({
  index: int({ minimum: 0, description: 'Attempt number, from 0; the driver pod is <job>-driver-<index>.' }),
  podName: opt(str({ description: 'Name of the driver pod.' })),
  podUID: opt(
    str({
      description: 'UID of the driver pod once seen: a later disappearance is a deletion, not a pod still to create.',
    }),
  ),
  masterUID: opt(
    str({
      description:
        "UID of the cluster's master when the attempt started. A different status.master.uid, or this master pod failing or going, ends the attempt (MasterRestarted); a driver that fails or goes while its master is lost is put down to the master (MasterRestarted, not its exit code).",
    }),
  ),
  startTime: opt(time({ description: 'When the attempt was recorded, before its driver pod was created.' })),
  finishTime: opt(time({ description: 'When the attempt ended; unset while it runs.' })),
  exitCode: opt(int({ description: "The driver's exit code, when it exited." })),
  reason: opt(
    str({
      description:
        "How the attempt ended: Succeeded, the container's reason (Error, OOMKilled, ...), Evicted, a DisruptionTarget reason (EvictionByEvictionAPI, PreemptionByScheduler, DeletionByTaintManager, TerminationByKubelet), NodeLost, MasterRestarted, PodDeleted, Suspended, the startup blocker, or the job's reason when the job ended it.",
    }),
  ),
  message: opt(str({ description: 'Human-readable details of reason.' })),
  counted: opt(bool({ description: 'Whether this failure counted toward backoffLimit.' })),
});
export type Attempt = Static<typeof attemptSchema>;

export const MAX_ATTEMPT_HISTORY = 20;

const jobTimesFields = {
  startTime: opt(
    time({ description: 'When the job started running; cleared by suspend. activeDeadlineSeconds counts from it.' }),
  ),
  completionTime: opt(time({ description: 'When the job finished.' })),
  nextAttemptTime: opt(time({ description: 'When the next attempt may start (phase Retrying).' })),
  clusterWaitStartTime: opt(time({ description: 'Since when the job has been waiting for its cluster to be Ready.' })),
  duration: opt(
    str({ description: 'startTime to completionTime, such as 1h2m3s, once finished (the Duration printer column).' }),
  ),
};

export const computeJobStatusSchema = obj(
  {
    observedGeneration: opt(
      int({ format: 'int64', description: 'The metadata.generation this status was computed from.' }),
    ),
    phase: opt(
      oneOf(
        ['Pending', 'Queued', 'WaitingForCluster', 'Running', 'Retrying', 'Suspended', 'Succeeded', 'Failed'] as const,
        {
          description:
            'Pending, Queued (labelled kueue.x-k8s.io/queue-name: waiting for Kueue to admit its Workload, or evicted by Kueue), WaitingForCluster, Running, Retrying (until nextAttemptTime), Suspended, Succeeded or Failed; the last two are final.',
        },
      ),
    ),
    reason: opt(
      str({
        description:
          'Why the job finished: Succeeded, FailedByRule, BackoffLimitExceeded, DeadlineExceeded, ClusterNotReady, ClusterDeleted or ClusterConflict.',
      }),
    ),
    message: opt(str({ description: 'Human-readable details of reason.' })),
    conditions: opt(
      conditionsSchema(
        'Ready, Reconciling, Stalled, Complete, Failed, Suspended, and Queued for a job queued with Kueue',
      ),
    ),
    clusterName: opt(
      str({ description: "The ComputeCluster the job runs on: clusterRef.name, or the job's name (clusterTemplate)." }),
    ),
    attempts: opt(
      list(attemptSchema, {
        maxItems: MAX_ATTEMPT_HISTORY,
        description: `Attempts, newest last; at most ${MAX_ATTEMPT_HISTORY} are kept, older ones are dropped.`,
      }),
    ),
    attemptCount: opt(int({ description: 'Attempts started, including those dropped from the history.' })),
    failed: opt(int({ description: 'Counted failures, compared with backoffLimit.' })),
    ...jobTimesFields,
  },
  { description: 'Observed state, written by the operator only.' },
);
export type ComputeJobStatus = Static<typeof computeJobStatusSchema>;

export const jobNameRule: Rule<{ metadata: { name?: string } }> = {
  rule: `!has(self.metadata.name) || (self.metadata.name.size() <= ${MAX_JOB_NAME_LENGTH} && self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$'))`,
  message: `metadata.name must be a DNS-1035 label of at most ${MAX_JOB_NAME_LENGTH} characters (lower-case letters, digits and '-', starting with a letter), so that <name>-driver-<attempt> stays a valid name`,
  reportAs: 'metadata.name',
  check: (o) =>
    o.metadata.name === undefined ||
    (o.metadata.name.length <= MAX_JOB_NAME_LENGTH && /^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(o.metadata.name)),
};

export const jobGroupNamesRule = groupNamesFit<{
  metadata: { name?: string };
  spec: { clusterTemplate?: { spec: { workerGroups?: { name: string }[] } } };
}>(
  'self.spec.clusterTemplate.spec.workerGroups',
  'has(self.spec.clusterTemplate) && has(self.spec.clusterTemplate.spec) && has(self.spec.clusterTemplate.spec.workerGroups)',
  (o) => o.spec.clusterTemplate?.spec.workerGroups,
);

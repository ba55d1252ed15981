// ComputeJob: a driver run against a ComputeCluster, shared or ephemeral (../shared/design/api.md).
import { backoffSchema, conditionsSchema } from './common.ts';
import { computeClusterSpecSchema, templateMetadataSchema } from './computecluster.ts';
import { bool, int, list, obj, oneOf, opt, str, time, type Rule, type Static } from './dsl.ts';
import { MAX_JOB_NAME_LENGTH } from './group.ts';
import { podTemplate } from './podtemplate.ts';

export const FAILURE_ACTIONS = ['FailJob', 'Ignore', 'Count'] as const;
/** Reasons an attempt can end with that are not the driver's own exit. */
export const DEFAULT_IGNORED_REASONS = ['MasterRestarted', 'NodeLost', 'Evicted'];

const failureRule = obj(
  {
    action: oneOf(FAILURE_ACTIONS, {
      description:
        'FailJob: fail the job now. Ignore: retry without counting. Count: retry and count toward backoffLimit.',
    }),
    onExitCodes: opt(
      obj({
        operator: oneOf(['In', 'NotIn'] as const),
        values: list(int({ minimum: 0, maximum: 255 }), { maxItems: 255, minItems: 1, listType: 'set' }),
      }),
    ),
    onReasons: opt(
      list(str({ maxLength: 128 }), {
        maxItems: 32,
        minItems: 1,
        listType: 'set',
        description:
          'Attempt end reasons, such as MasterRestarted, NodeLost, Evicted, DeadlineExceeded, ImagePullBackOff.',
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

export const computeJobSpecSchema = obj(
  {
    clusterRef: opt(
      obj(
        { name: str({ minLength: 1, maxLength: 63 }) },
        { description: 'An existing ComputeCluster in the same namespace.' },
      ),
    ),
    clusterTemplate: opt(
      obj(
        {
          metadata: opt(templateMetadataSchema),
          spec: computeClusterSpecSchema,
        },
        { description: 'An ephemeral ComputeCluster, named after the job and owned by it.' },
      ),
    ),
    template: podTemplate({
      description: 'Pod template of the driver; restartPolicy must be Never.',
      rules: [restartPolicyNever],
    }),
    backoffLimit: opt(
      int({ minimum: 0, maximum: 1000, default: 3, description: 'Counted failed attempts before the job fails.' }),
    ),
    backoff: opt(backoffSchema('the next attempt')),
    failurePolicy: opt(
      obj(
        {
          rules: opt(
            list(failureRule, {
              maxItems: 20,
              default: [{ action: 'Ignore', onReasons: DEFAULT_IGNORED_REASONS }],
              description: 'First match wins; no match counts the failure.',
            }),
          ),
        },
        { default: {} },
      ),
    ),
    activeDeadlineSeconds: opt(
      int({
        minimum: 1,
        format: 'int64',
        description: 'Whole job, retries included; then Failed with reason DeadlineExceeded.',
      }),
    ),
    startupDeadlineSeconds: opt(
      int({
        minimum: 1,
        maximum: 86400,
        default: 900,
        description: 'An attempt not Running by then fails with the blocker as its reason.',
      }),
    ),
    clusterReadyTimeoutSeconds: opt(
      int({
        minimum: 1,
        maximum: 86400,
        default: 600,
        description: 'Waiting for clusterRef to be Ready; then Failed with reason ClusterNotReady.',
      }),
    ),
    suspend: opt(
      bool({
        default: false,
        description: 'true: stop the running attempt (an ephemeral cluster is deleted); false: resume.',
      }),
    ),
    ttlSecondsAfterFinished: opt(
      int({ minimum: 0, format: 'int64', description: 'The finished job and what it owns are deleted after this.' }),
    ),
    cleanupPolicy: opt(
      oneOf(['Delete', 'KeepOnFailure', 'Keep'] as const, {
        default: 'Delete',
        description: 'What happens to the ephemeral cluster when the job finishes.',
      }),
    ),
  },
  {
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

const attemptSchema = obj({
  index: int({ minimum: 0 }),
  podName: opt(str()),
  podUID: opt(
    str({
      description: 'UID of the driver pod once seen: a later disappearance is a deletion, not a pod still to create.',
    }),
  ),
  masterUID: opt(str()),
  startTime: opt(time()),
  finishTime: opt(time()),
  exitCode: opt(int()),
  reason: opt(str()),
  message: opt(str()),
  counted: opt(bool({ description: 'Whether this failure counted toward backoffLimit.' })),
});
export type Attempt = Static<typeof attemptSchema>;

export const MAX_ATTEMPT_HISTORY = 20;

export const computeJobStatusSchema = obj({
  observedGeneration: opt(int({ format: 'int64' })),
  phase: opt(
    oneOf(['Pending', 'WaitingForCluster', 'Running', 'Retrying', 'Suspended', 'Succeeded', 'Failed'] as const),
  ),
  reason: opt(str()),
  message: opt(str()),
  conditions: opt(conditionsSchema),
  clusterName: opt(str()),
  attempts: opt(
    list(attemptSchema, { maxItems: MAX_ATTEMPT_HISTORY, description: 'Newest last; older attempts are dropped.' }),
  ),
  attemptCount: opt(int({ description: 'Attempts started, including those dropped from the history.' })),
  failed: opt(int({ description: 'Counted failures.' })),
  startTime: opt(time()),
  completionTime: opt(time()),
  nextAttemptTime: opt(time()),
  clusterWaitStartTime: opt(time({ description: 'Since when the job has been waiting for its cluster to be Ready.' })),
  duration: opt(str({ description: 'startTime to completionTime, once finished.' })),
});
export type ComputeJobStatus = Static<typeof computeJobStatusSchema>;

export const jobNameRule: Rule<{ metadata: { name?: string } }> = {
  rule: `!has(self.metadata.name) || (self.metadata.name.size() <= ${MAX_JOB_NAME_LENGTH} && self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$'))`,
  message: `metadata.name must be a DNS-1035 label of at most ${MAX_JOB_NAME_LENGTH} characters (lower-case letters, digits and '-', starting with a letter), so that <name>-driver-<attempt> stays a valid name`,
  reportAs: 'metadata.name',
  check: (o) =>
    o.metadata.name === undefined ||
    (o.metadata.name.length <= MAX_JOB_NAME_LENGTH && /^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(o.metadata.name)),
};

// ComputeCluster: one master pod and a pool of worker pods (docs/api.md).
import { backoffField, conditionsSchema } from './common.ts';
import {
  bool,
  int,
  intOrString,
  list,
  mapOf,
  obj,
  oneOf,
  opt,
  str,
  time,
  type Resolved,
  type Rule,
  type Static,
} from './dsl.ts';
import {
  MAX_CLUSTER_AND_GROUP_LENGTH,
  MAX_CLUSTER_NAME_LENGTH,
  MAX_GROUP_NAME_LENGTH,
  MAX_WORKER_REPLICAS,
} from './group.ts';
import { podTemplate } from './podtemplate.ts';

const servicePort = obj({
  name: opt(
    str({
      maxLength: 15,
      pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
      description:
        'Port name (IANA_SVC_NAME: lower-case letters, digits and "-", at most 15 characters); Kubernetes requires it when the Service has more than one port.',
    }),
  ),
  port: int({ minimum: 1, maximum: 65535, description: 'Port the master Service exposes.' }),
  targetPort: opt(
    intOrString({ description: 'Container port number or name the Service forwards to; unset: the same as port.' }),
  ),
  protocol: opt(oneOf(['TCP', 'UDP', 'SCTP'] as const, { description: 'Protocol of the port: TCP, UDP or SCTP.' }), {
    default: 'TCP',
  }),
  nodePort: opt(
    int({
      minimum: 1,
      maximum: 65535,
      description:
        'Node port to ask for, only with serviceType NodePort or LoadBalancer; unset: Kubernetes allocates one.',
    }),
  ),
});
export type ServicePort = Static<typeof servicePort>;

type ContainerPorts = { spec?: { containers?: { ports?: unknown[] }[] } };
const masterHasPorts: Rule<{ ports?: unknown[]; template?: ContainerPorts }> = {
  rule: '(has(self.ports) && size(self.ports) > 0) || (has(self.template.spec) && self.template.spec.containers.exists(c, has(c.ports) && size(c.ports) > 0))',
  message:
    'the master Service needs a port: set spec.master.ports, or declare ports on a container of spec.master.template',
  fieldPath: '.ports',
  check: (m) =>
    (m.ports?.length ?? 0) > 0 || (m.template?.spec?.containers ?? []).some((c) => (c.ports?.length ?? 0) > 0),
};

/**
 * A node port on a ClusterIP Service is refused by the API server (422) only when the
 * operator applies the Service: caught at apply time instead, with the fix in the message.
 */
const nodePortNeedsType: Rule<{ ports?: { nodePort?: number }[]; serviceType?: string }> = {
  rule: "!has(self.ports) || self.ports.all(p, !has(p.nodePort)) || (has(self.serviceType) && self.serviceType != 'ClusterIP')",
  message:
    'spec.master.ports[].nodePort needs spec.master.serviceType NodePort or LoadBalancer: set serviceType, or remove nodePort (a ClusterIP Service has no node ports)',
  fieldPath: '.ports',
  check: (m) =>
    (m.ports ?? []).every((p) => p.nodePort === undefined) || (m.serviceType ?? 'ClusterIP') !== 'ClusterIP',
};

const masterFailurePolicySchema = obj(
  {
    action: opt(
      oneOf(['RecreateMaster', 'RestartCluster'] as const, {
        description:
          'RecreateMaster: a new master pod, workers keep running. RestartCluster: master and all workers are recreated.',
      }),
      { default: 'RecreateMaster' },
    ),
    maxRestarts: opt(
      int({
        minimum: 0,
        maximum: 1000,
        description:
          'Master recreations allowed within windowSeconds; one more loss gives Stalled=True (reason MasterRestartLimit, phase Failed) and no new master until the window frees a restart.',
      }),
      { default: 5 },
    ),
    windowSeconds: opt(
      int({
        minimum: 1,
        maximum: 604800,
        description: 'Sliding window, in seconds, over which maxRestarts counts master recreations.',
      }),
      { default: 3600 },
    ),
  },
  {
    description:
      'What the operator does when the master is lost: its pod failed, exited, was evicted or deleted, crash-loops or is on a lost node.',
  },
);

export const masterSchema = obj(
  {
    template: podTemplate({
      description:
        'Pod template of the master pod <cluster>-master, validated field by field; a change recreates the master.',
    }),
    ports: opt(
      list(servicePort, {
        maxItems: 32,
        listType: 'map',
        listMapKeys: ['port', 'protocol'],
        description:
          'Ports of the master Service; unset or empty: the container ports of the master template. The first port is GAFFER_MASTER_PORT: changing it recreates the master and rolls the workers out.',
      }),
    ),
    serviceType: opt(
      oneOf(['ClusterIP', 'NodePort', 'LoadBalancer'] as const, {
        description: 'Type of the master Service <cluster>-master: ClusterIP, NodePort or LoadBalancer.',
      }),
      { default: 'ClusterIP' },
    ),
    failurePolicy: opt(masterFailurePolicySchema, { default: {} }),
    disruptionBudget: opt(
      obj(
        {
          enabled: opt(
            bool({
              description:
                'true: the PodDisruptionBudget <cluster>-master (minAvailable 1) refuses every eviction of a Ready master, so kubectl drain and the cluster autoscaler wait instead of ending the running jobs; false: no budget (an existing one is deleted).',
            }),
            { default: true },
          ),
        },
        { description: 'Opt-in protection of the master from voluntary disruption, owned by the cluster.' },
      ),
    ),
  },
  {
    rules: [masterHasPorts, nodePortNeedsType],
    description: 'The master: one pod and the Service <cluster>-master in front of it.',
  },
);

const updateStrategySchema = obj(
  {
    type: opt(
      oneOf(['RollingUpdate', 'Recreate', 'OnDelete'] as const, {
        description:
          'RollingUpdate: replace outdated workers while no more than maxUnavailable are unavailable. Recreate: replace them all at once. OnDelete: only when you delete them.',
      }),
      { default: 'RollingUpdate' },
    ),
    maxUnavailable: opt(
      intOrString({
        maxLength: 4,
        description:
          'RollingUpdate: workers that may be unavailable at once, a count of at least 1 or a percentage such as "25%" of the desired count (rounded down, at least 1).',
        rules: [
          {
            rule: "type(self) == int ? self >= 1 : self.matches('^[1-9][0-9]?%$|^100%$')",
            message: 'maxUnavailable must be a count of at least 1 or a percentage from 1% to 100%',
            check: (v: number | string) => (typeof v === 'number' ? v >= 1 : /^[1-9][0-9]?%$|^100%$/.test(v)),
          },
        ],
      }),
      { default: 1 },
    ),
  },
  {
    description:
      'How workers on an older revision are replaced (the revision is a hash of what a worker is built from: its template and the master port of GAFFER_MASTER_*).',
  },
);

/** Replicas, bounds, template and update strategy: the default pool and every named group share them. */
const poolProps = (pods: string) => ({
  replicas: opt(
    int({
      minimum: 0,
      maximum: MAX_WORKER_REPLICAS,
      description: `Desired number of workers${pods === DEFAULT_POOL_PODS ? ', the scale subresource path (kubectl scale, HPA, KEDA)' : ''}; unset: minReplicas. The effective count is clamped to [minReplicas, maxReplicas].`,
    }),
  ),
  minReplicas: opt(
    int({
      minimum: 0,
      maximum: MAX_WORKER_REPLICAS,
      description:
        'Lower bound of the effective worker count, and the count when replicas is unset; must not exceed maxReplicas.',
    }),
    { default: 0 },
  ),
  maxReplicas: opt(
    int({
      minimum: 0,
      maximum: MAX_WORKER_REPLICAS,
      description: `Upper bound of the effective worker count (at most ${MAX_WORKER_REPLICAS}, so that worker indexes keep names valid).`,
    }),
    { default: 1000 },
  ),
  template: podTemplate({
    description: `Pod template of every worker ${pods}, validated field by field; a change rolls out per updateStrategy.`,
  }),
  updateStrategy: opt(updateStrategySchema, { default: {} }),
  disruptionBudget: opt(
    obj(
      {
        maxUnavailable: intOrString({
          maxLength: 4,
          description:
            'Workers of this group a voluntary disruption (an eviction: kubectl drain, the cluster autoscaler) may take at once: a count of at least 0 or a percentage such as "25%" of the group\'s desired count (rounded up). The budget is written as minAvailable: the desired count less this.',
          rules: [
            {
              rule: "type(self) == int ? self >= 0 : self.matches('^[0-9]{1,2}%$|^100%$')",
              message: 'disruptionBudget.maxUnavailable must be a count of at least 0 or a percentage from 0% to 100%',
              check: (v: number | string) => (typeof v === 'number' ? v >= 0 : /^[0-9]{1,2}%$|^100%$/.test(v)),
            },
          ],
        }),
      },
      {
        description:
          'Opt-in PodDisruptionBudget <cluster>-<group> over these workers, owned by the cluster: evictions beyond maxUnavailable are refused (429); workers that are not Ready may always be evicted. Unset: no budget (an existing one is deleted).',
      },
    ),
  ),
});

const DEFAULT_POOL_PODS = '<cluster>-worker-<index>';

const minNotAboveMax: Rule<{ minReplicas: number; maxReplicas: number }> = {
  rule: 'self.minReplicas <= self.maxReplicas',
  message: 'minReplicas must not exceed maxReplicas',
  fieldPath: '.minReplicas',
  check: (w) => w.minReplicas <= w.maxReplicas,
};

export const workersSchema = obj(poolProps(DEFAULT_POOL_PODS), {
  description:
    'The default worker group, named worker: pods <cluster>-worker-<index> (the lowest free index is reused). The headless Service <cluster>-workers covers every group.',
  rules: [minNotAboveMax],
});

/** Group names that would clash with the default group's, the master's or a driver's pod names. */
export const RESERVED_GROUP_NAMES = ['worker', 'master', 'driver'] as const;
export const MAX_WORKER_GROUPS = 16;

const workerGroupSchema = obj(
  {
    name: str({
      minLength: 1,
      maxLength: MAX_GROUP_NAME_LENGTH,
      pattern: '^[a-z][a-z0-9]*$',
      description: `Name of the group: lower-case letters and digits, starting with a letter, no dashes, at most ${MAX_GROUP_NAME_LENGTH} characters; not worker, master or driver. Its pods are <cluster>-<name>-<index>.`,
      rules: [
        {
          rule: "!(self in ['worker', 'master', 'driver'])",
          message:
            'worker, master and driver are taken (the default group, the master and drivers have those pod names): choose another group name',
          check: (v: string) => !(RESERVED_GROUP_NAMES as readonly string[]).includes(v),
        },
      ],
    }),
    ...poolProps('<cluster>-<name>-<index>'),
  },
  {
    description:
      'A named group of workers beside the default one, with its own template, count and update strategy: pods <cluster>-<name>-<index> labelled compute.gaffer.dev/worker-group=<name>.',
    rules: [minNotAboveMax],
  },
);

/** Worker groups: each name once (the API server checks it as a map list; the rule also checks it offline). */
const workerGroupsSchema = list(workerGroupSchema, {
  maxItems: MAX_WORKER_GROUPS,
  listType: 'map',
  listMapKeys: ['name'],
  description:
    'Named worker groups beside spec.workers (for example CPU and GPU workers). Recovery, scale-down order and rolling updates apply per group; removing a group deletes its pods.',
  rules: [
    {
      rule: 'self.all(g, self.exists_one(h, h.name == g.name))',
      message: 'spec.workerGroups[].name must be unique: rename or merge the groups that share a name',
      check: (gs: { name: string }[]) => new Set(gs.map((g) => g.name)).size === gs.length,
    },
  ],
});

const crashLoopSchema = obj(
  {
    maxContainerRestarts: opt(
      int({
        minimum: 1,
        maximum: 10000,
        description:
          "Container restarts (summed over the pod's containers) tolerated within windowSeconds; more is a crash loop.",
      }),
      { default: 5 },
    ),
    windowSeconds: opt(
      int({
        minimum: 1,
        maximum: 604800,
        description:
          "Window, in seconds, over which restarts count: a container's restarts are spread between the pod's start and the container's last restart, so one that has been running for longer than the window has none in it (no history is kept, so the judgement survives an operator restart).",
      }),
      { default: 600 },
    ),
  },
  {
    description:
      'A pod whose containers restarted more than maxContainerRestarts times within windowSeconds is deleted and recreated (reason CrashLoop).',
  },
);

export const podRecoverySchema = obj(
  {
    backoff: backoffField(
      'Delay between pod replacements in a failure streak: the first replacement is immediate, each further one waits initialSeconds, doubling up to maxSeconds, after the previous one. Also paces retries of pods the API server refused.',
    ),
    resetAfterSeconds: opt(
      int({
        minimum: 1,
        maximum: 604800,
        description: 'The backoff streak resets after this many seconds without a replacement.',
      }),
      { default: 600 },
    ),
    crashLoop: opt(crashLoopSchema, { default: {} }),
    nodeLossSeconds: opt(
      int({
        minimum: 1,
        maximum: 86400,
        description:
          "Seconds a pod's node may be not Ready (NotReady or Unknown) before the pod counts as lost: it is force-deleted and replaced (reason NodeLost); a deleted node counts at once. Counted from when the node stopped being Ready, or from when the pod arrived on it if that was later (as the taint manager counts a toleration). Also ends the attempt of a job whose driver runs there.",
      }),
      { default: 60 },
    ),
    startupDeadlineSeconds: opt(
      int({
        minimum: 1,
        maximum: 86400,
        description:
          "Seconds a pod (master or worker) may take from its creation to Running. Past it the cluster is Stalled (reason: the pod's blocker as its kubelet or the scheduler says it, such as Unschedulable or CreateContainerConfigError, else StartupTimeout) with a Warning event PodStartupBlocked naming the pod; image errors are reported at once (ErrImagePull and ImagePullBackOff as ImagePullBackOff, InvalidImageName, ErrImageNeverPull). A pod held by scheduling gates (SchedulingGated) is not reported. Only reported: the pod is not recreated (a new pod would meet the same blocker), and the condition clears once it runs.",
      }),
      { default: 900 },
    ),
  },
  {
    description:
      'How the operator replaces pods, master and workers, that the kubelet cannot heal: failed, exited, evicted, deleted, crash-looping or on a lost node; and reports pods that do not start.',
  },
);

const gangSchema = obj(
  {
    provider: opt(
      oneOf(['Kubernetes', 'Coscheduling', 'Volcano'] as const, {
        description:
          "Which gang scheduler places the pods, through a PodGroup <cluster> owned by the cluster. Kubernetes: kube-scheduler's own gang scheduling (scheduling.k8s.io/v1beta1, feature gate GenericWorkload); every master and worker pod names the PodGroup in spec.schedulingGroup. Coscheduling: the Coscheduling plugin of kubernetes-sigs/scheduler-plugins (scheduling.x-k8s.io/v1alpha1 PodGroup with minMember, minResources, scheduleTimeoutSeconds); pods carry the label scheduling.x-k8s.io/pod-group and go to schedulerName, default scheduler-plugins-scheduler. Volcano: the Volcano scheduler (scheduling.volcano.sh/v1beta1 PodGroup with minMember, minTaskMember per role and worker group, minResources, queue); pods carry the annotations scheduling.k8s.io/group-name and volcano.sh/task-spec and go to schedulerName, default volcano.",
      }),
      { default: 'Kubernetes' },
    ),
    queue: opt(
      str({
        maxLength: 253,
        pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
        description:
          "Volcano only: the Volcano Queue whose quota the PodGroup is admitted from (the PodGroup's spec.queue). Unset: Volcano's choice (the namespace's queue, else default).",
      }),
    ),
    minMember: opt(
      oneOf(['AllReplicas', 'MinReplicas'] as const, {
        description:
          "Which pods must be placed together: the master and every desired worker (AllReplicas), or the master and each group's minReplicas workers (MinReplicas). The gang's minCount is their number; the others are placed as they come.",
      }),
      { default: 'AllReplicas' },
    ),
    timeoutSeconds: opt(
      int({
        minimum: 1,
        maximum: 86400,
        description:
          "Seconds the gang may wait to be placed before the cluster reports Scheduled=False with the scheduler's own reason and message (until then Scheduled=False, reason Scheduling). Nothing is deleted: the scheduler keeps trying.",
      }),
      { default: 300 },
    ),
  },
  {
    description:
      'All-or-nothing placement: the master and the minimum workers are bound together or not at all, so half-started clusters do not hold resources and deadlock each other. A change of it (on or off, or of provider) rolls the pods out.',
    rules: [
      {
        rule: "!has(self.queue) || self.provider == 'Volcano'",
        message: 'queue is a Volcano queue: set provider: Volcano, or remove queue',
        fieldPath: '.queue',
        check: (g: { provider?: string; queue?: string }) => g.queue === undefined || g.provider === 'Volcano',
      },
    ],
  },
);

const schedulingSchema = obj(
  {
    schedulerName: opt(
      str({
        maxLength: 253,
        pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
        description:
          "Scheduler of the master, workers and drivers (spec.schedulerName), unless a pod template sets its own; unset: the cluster's default scheduler. A change rolls the pods out.",
      }),
    ),
    priorityClassName: opt(
      str({
        maxLength: 253,
        pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
        description:
          'PriorityClass of the master, workers and drivers (spec.priorityClassName), unless a pod template sets its own: on a busy cluster the scheduler may preempt lower-priority pods for them. A change rolls the pods out.',
      }),
    ),
    gang: opt(gangSchema),
  },
  { description: 'How every pod of the cluster is scheduled.' },
);

type TemplateSpec = { template?: { spec?: { priorityClassName?: string; schedulerName?: string } } };
/** A template that sets its own scheduler or priority (CEL over `t`, the template). */
const ownScheduling = (t: string) =>
  `(has(${t}.spec) && (has(${t}.spec.priorityClassName) || has(${t}.spec.schedulerName)))`;
const setsOwn = (p: TemplateSpec) => !!(p.template?.spec?.priorityClassName || p.template?.spec?.schedulerName);

/**
 * The scheduler places a gang only if its pods and its PodGroup share one priority and one
 * scheduler: with a gang they come from spec.scheduling alone, not from the pod templates.
 */
const gangTemplatesAgree: Rule<{
  scheduling?: { gang?: unknown };
  master: TemplateSpec;
  workers: TemplateSpec;
  workerGroups?: TemplateSpec[];
}> = {
  rule: `!has(self.scheduling) || !has(self.scheduling.gang) || !(${ownScheduling('self.master.template')} || ${ownScheduling('self.workers.template')} || (has(self.workerGroups) && self.workerGroups.exists(g, ${ownScheduling('g.template')})))`,
  message:
    'with spec.scheduling.gang, every pod of the gang must have the same scheduler and priority: set them in spec.scheduling (schedulerName, priorityClassName) and remove them from the master and worker templates',
  fieldPath: '.scheduling.gang',
  check: (s) => !s.scheduling?.gang || ![s.master, s.workers, ...(s.workerGroups ?? [])].some(setsOwn),
};

/** A ComputeClusterSpec schema; the description differs where it is embedded (a job's clusterTemplate). */
export const clusterSpecSchema = (description: string) =>
  obj(
    {
      suspend: opt(
        bool({
          description:
            'true: delete the master and all workers, keeping the ComputeCluster and its Services; false: create them again.',
        }),
        { default: false },
      ),
      master: masterSchema,
      workers: workersSchema,
      workerGroups: opt(workerGroupsSchema),
      scheduling: opt(schedulingSchema),
      podRecovery: opt(podRecoverySchema, { default: {} }),
    },
    { description, rules: [gangTemplatesAgree] },
  );

export const computeClusterSpecSchema = clusterSpecSchema(
  'Desired state: the master, the workers and how failed pods are replaced. The operator never writes it.',
);
export type ComputeClusterSpec = Static<typeof computeClusterSpecSchema>;
/** The spec once validated: every field with a schema default is present (validateCluster). */
export type ResolvedComputeClusterSpec = Resolved<typeof computeClusterSpecSchema>;

const masterStatusSchema = obj(
  {
    podName: opt(str({ description: 'Name of the master pod, <cluster>-master.' })),
    serviceName: opt(str({ description: 'Name of the master Service, <cluster>-master.' })),
    endpoint: opt(
      str({
        description:
          'host:port of the master Service, <cluster>-master.<namespace>.svc:<port> with the first port (GAFFER_MASTER_ADDR).',
      }),
    ),
    ready: opt(bool({ description: 'Whether the master pod is Ready and nothing is wrong with it.' })),
    restarts: opt(
      int({ description: 'Times the operator recreated the master after a loss; template changes do not count.' }),
    ),
    uid: opt(
      str({
        description:
          'UID of the current master pod; empty while it is replaced. It changes with every new master, which ends the running attempts of jobs (reason MasterRestarted).',
      }),
    ),
  },
  { description: 'The master pod and its Service.' },
);

/** Counts of one worker group's pods. */
const groupCounts = {
  replicas: opt(int({ description: 'Worker pods that exist and are not terminating.' })),
  desiredReplicas: opt(
    int({
      description:
        'Effective desired count: replicas (or minReplicas) clamped to [minReplicas, maxReplicas]; 0 while suspended.',
    }),
  ),
  readyReplicas: opt(int({ description: 'Worker pods that are Ready.' })),
  updatedReplicas: opt(int({ description: 'Worker pods on the current template revision.' })),
};

const workersStatusSchema = obj(
  {
    ...groupCounts,
    replicas: opt(
      int({
        description:
          'Worker pods of the default group that exist and are not terminating (the scale subresource status path).',
      }),
    ),
    selector: opt(
      str({
        description:
          "Label selector of the default group's worker pods (the scale subresource labelSelectorPath, for HPA).",
      }),
    ),
    summary: opt(
      str({ description: 'ready/desired workers of all groups together, shown by the Workers printer column.' }),
    ),
  },
  {
    description:
      'The default worker group (spec.workers), whose counts the scale subresource reads; summary totals every group.',
  },
);

const workerGroupStatusSchema = obj(
  {
    name: str({ description: 'The group (spec.workerGroups[].name).' }),
    ...groupCounts,
    revision: opt(str({ description: "Revision of the group's workers: a hash of its template and the master port." })),
  },
  { description: 'One named worker group.' },
);

const recoveryStatusSchema = obj(
  {
    podsReplaced: opt(int({ description: 'Pods (master and workers) the operator replaced because they failed.' })),
    lastReason: opt(
      str({
        description: 'Reason of the last replacement: PodFailed, PodSucceeded, Evicted, CrashLoop or NodeLost.',
      }),
    ),
    nextAttemptTime: opt(time({ description: 'Earliest time the next replacement may happen (podRecovery.backoff).' })),
    failureStreak: opt(
      int({ description: 'Replacements in the current backoff streak; reset after resetAfterSeconds without one.' }),
    ),
    lastFailureTime: opt(time({ description: 'When the last replacement happened.' })),
    masterRestartTimes: opt(
      list(time(), {
        maxItems: 1001,
        description:
          'When the master was recreated after a loss, within master.failurePolicy.windowSeconds (for maxRestarts).',
      }),
    ),
    retiring: opt(
      list(
        obj(
          {
            name: str({ maxLength: 253, description: 'The pod.' }),
            uid: str({ maxLength: 128, description: 'Its uid: a newer pod of the same name is not retired.' }),
            reason: str({
              maxLength: 128,
              description: 'Why it is retired (a podsReplaced reason, or RestartCluster).',
            }),
          },
          { description: 'A pod counted in podsReplaced or masterRestartTimes whose deletion is not seen yet.' },
        ),
        {
          // The master and every worker (of every group) of a RestartCluster.
          maxItems: (MAX_WORKER_GROUPS + 1) * MAX_WORKER_REPLICAS + 1,
          description:
            'Pods whose replacement is counted already and whose delete is not seen yet: a delete that failed (429, 5xx, timeout, operator restart) is sent again without counting the loss again or waiting for the backoff.',
        },
      ),
    ),
  },
  {
    description:
      'Pod replacements and the backoff, written before pods are deleted so that an operator restart neither forgets nor repeats one.',
  },
);

export const computeClusterStatusSchema = obj(
  {
    observedGeneration: opt(
      int({ format: 'int64', description: 'The metadata.generation this status was computed from.' }),
    ),
    phase: opt(
      oneOf(['Pending', 'Queued', 'Running', 'Degraded', 'Suspended', 'Failed'] as const, {
        description:
          "Summary for printer columns (the conditions say more): Pending until first Ready, Queued (labelled kueue.x-k8s.io/queue-name and not admitted by Kueue: no pods), Running, Degraded (it has run and now the master or a worker is broken or does not start), Suspended, Failed (Stalled by the master's restart limit or an invalid spec).",
      }),
    ),
    conditions: opt(
      conditionsSchema(
        'Ready, Reconciling, Stalled, MasterReady, WorkersReady, ServicesReady, DisruptionBudgetsReady, ReplicaFailure, Suspended, Scheduled with spec.scheduling.gang, and Queued for a cluster queued with Kueue',
      ),
    ),
    master: opt(masterStatusSchema),
    workers: opt(workersStatusSchema),
    workerGroups: opt(
      list(workerGroupStatusSchema, {
        maxItems: MAX_WORKER_GROUPS,
        listType: 'map',
        listMapKeys: ['name'],
        description: 'One entry per group of spec.workerGroups, in its order.',
      }),
    ),
    revision: opt(
      obj(
        {
          master: opt(
            str({ description: 'Revision of the master: a hash of spec.master.template and the master port.' }),
          ),
          workers: opt(
            str({ description: 'Revision of the workers: a hash of spec.workers.template and the master port.' }),
          ),
        },
        {
          description:
            'Hashes of what the pods are built from (template and GAFFER_* wiring), as in the compute.gaffer.dev/revision label of up-to-date pods.',
        },
      ),
    ),
    recovery: opt(recoveryStatusSchema),
    activeJobs: opt(int({ description: 'ComputeJobs with an attempt running on this cluster.' })),
  },
  { description: 'Observed state, written by the operator only.' },
);
export type ComputeClusterStatus = Static<typeof computeClusterStatusSchema>;

const labelsSchema = mapOf(str({ maxLength: 63 }), {
  maxProperties: 64,
  description:
    'Labels of the ephemeral ComputeCluster; Gaffer adds compute.gaffer.dev/job and app.kubernetes.io/managed-by.',
});
export const templateMetadataSchema = obj(
  {
    labels: opt(labelsSchema),
    annotations: opt(mapOf(str(), { description: 'Annotations of the ephemeral ComputeCluster.' })),
  },
  { description: 'Labels and annotations of the ephemeral ComputeCluster (its name is the job name).' },
);

export const clusterNameRule: Rule<{ metadata: { name?: string } }> = {
  rule: `!has(self.metadata.name) || (self.metadata.name.size() <= ${MAX_CLUSTER_NAME_LENGTH} && self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$'))`,
  message: `metadata.name must be a DNS-1035 label of at most ${MAX_CLUSTER_NAME_LENGTH} characters (lower-case letters, digits and '-', starting with a letter), so that <name>-worker-<index> stays a valid name`,
  reportAs: 'metadata.name',
  check: (o) =>
    o.metadata.name === undefined ||
    (o.metadata.name.length <= MAX_CLUSTER_NAME_LENGTH && /^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(o.metadata.name)),
};

/**
 * `<name>-<group>-<index>` stays a DNS-1035 label: the object's name and each group's name fit
 * together. `groups` is the CEL path of the worker groups from the root (a job's are in its
 * clusterTemplate), `present` the CEL test that it is there: CEL's has() tests the last field
 * only, so every optional field on the way is tested (an absent one is an error, not false).
 */
export function groupNamesFit<T extends { metadata: { name?: string } }>(
  groups: string,
  present: string,
  read: (o: T) => { name: string }[] | undefined,
): Rule<T> {
  const max = MAX_CLUSTER_AND_GROUP_LENGTH;
  return {
    rule: `!has(self.metadata.name) || !(${present}) || ${groups}.all(g, self.metadata.name.size() + g.name.size() <= ${max})`,
    message: `metadata.name and each worker group's name together must not exceed ${max} characters, so that <name>-<group>-<index> stays a valid pod name: shorten one of them`,
    reportAs: 'metadata.name',
    check: (o) =>
      o.metadata.name === undefined || (read(o) ?? []).every((g) => o.metadata.name!.length + g.name.length <= max),
  };
}

export const clusterGroupNamesRule = groupNamesFit<{
  metadata: { name?: string };
  spec: { workerGroups?: { name: string }[] };
}>('self.spec.workerGroups', 'has(self.spec.workerGroups)', (o) => o.spec.workerGroups);

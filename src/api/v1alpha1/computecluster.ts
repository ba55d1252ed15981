// ComputeCluster: one master pod and a pool of worker pods (../shared/design/api.md).
import { backoffSchema, conditionsSchema } from './common.ts';
import { bool, int, intOrString, list, mapOf, obj, oneOf, opt, str, time, type Static, type Rule } from './dsl.ts';
import { MAX_CLUSTER_NAME_LENGTH, MAX_WORKER_REPLICAS } from './group.ts';
import { podTemplate } from './podtemplate.ts';

const servicePort = obj({
  name: opt(
    str({
      maxLength: 15,
      pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
      description: 'IANA_SVC_NAME; required when there is more than one port.',
    }),
  ),
  port: int({ minimum: 1, maximum: 65535, description: 'Port the Service exposes.' }),
  targetPort: opt(intOrString({ description: 'Container port number or name; defaults to port.' })),
  protocol: opt(oneOf(['TCP', 'UDP', 'SCTP'] as const, { default: 'TCP' })),
  nodePort: opt(int({ minimum: 1, maximum: 65535, description: 'Only with serviceType NodePort or LoadBalancer.' })),
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

export const masterSchema = obj(
  {
    template: podTemplate({ description: 'Pod template of the master.' }),
    ports: opt(
      list(servicePort, {
        maxItems: 32,
        listType: 'map',
        listMapKeys: ['port', 'protocol'],
        description: 'Ports of the master Service; default: the container ports of the master template.',
      }),
    ),
    serviceType: opt(oneOf(['ClusterIP', 'NodePort', 'LoadBalancer'] as const, { default: 'ClusterIP' })),
    failurePolicy: opt(
      obj(
        {
          action: opt(
            oneOf(['RecreateMaster', 'RestartCluster'] as const, {
              default: 'RecreateMaster',
              description:
                'RecreateMaster: a new master pod, workers keep running. RestartCluster: master and all workers are recreated.',
            }),
          ),
          maxRestarts: opt(
            int({
              minimum: 0,
              maximum: 1000,
              default: 5,
              description:
                'Master restarts allowed within windowSeconds; beyond it Stalled=True, reason MasterRestartLimit.',
            }),
          ),
          windowSeconds: opt(int({ minimum: 1, maximum: 604800, default: 3600 })),
        },
        { default: {}, description: 'What to do when the master is lost.' },
      ),
    ),
  },
  { rules: [masterHasPorts] },
);

export const workersSchema = obj(
  {
    replicas: opt(
      int({
        minimum: 0,
        maximum: MAX_WORKER_REPLICAS,
        description:
          'Desired workers (the scale subresource); default minReplicas; clamped to [minReplicas, maxReplicas].',
      }),
    ),
    minReplicas: opt(int({ minimum: 0, maximum: MAX_WORKER_REPLICAS, default: 0 })),
    maxReplicas: opt(int({ minimum: 0, maximum: MAX_WORKER_REPLICAS, default: 1000 })),
    template: podTemplate({ description: 'Pod template of every worker.' }),
    updateStrategy: opt(
      obj(
        {
          type: opt(oneOf(['RollingUpdate', 'Recreate', 'OnDelete'] as const, { default: 'RollingUpdate' })),
          maxUnavailable: opt(
            intOrString({
              default: 1,
              description: 'RollingUpdate: workers that may be down at once; a count or a percentage such as "25%".',
              rules: [
                {
                  rule: "type(self) == int ? self >= 1 : self.matches('^[1-9][0-9]?%$|^100%$')",
                  message: 'maxUnavailable must be a count of at least 1 or a percentage from 1% to 100%',
                  check: (v: number | string) => (typeof v === 'number' ? v >= 1 : /^[1-9][0-9]?%$|^100%$/.test(v)),
                },
              ],
            }),
          ),
        },
        { default: {} },
      ),
    ),
  },
  {
    rules: [
      {
        rule: 'self.minReplicas <= self.maxReplicas',
        message: 'minReplicas must not exceed maxReplicas',
        fieldPath: '.minReplicas',
        check: (w: { minReplicas?: number; maxReplicas?: number }) => (w.minReplicas ?? 0) <= (w.maxReplicas ?? 1000),
      },
    ],
  },
);

export const podRecoverySchema = obj(
  {
    backoff: opt(backoffSchema('a pod is replaced')),
    resetAfterSeconds: opt(
      int({
        minimum: 1,
        maximum: 604800,
        default: 600,
        description: 'The backoff resets after the pods have been healthy this long.',
      }),
    ),
    crashLoop: opt(
      obj(
        {
          maxContainerRestarts: opt(int({ minimum: 1, maximum: 10000, default: 5 })),
          windowSeconds: opt(int({ minimum: 1, maximum: 604800, default: 600 })),
        },
        {
          default: {},
          description:
            'A pod whose containers restarted more than maxContainerRestarts times within windowSeconds is deleted and recreated.',
        },
      ),
    ),
    nodeLossSeconds: opt(
      int({
        minimum: 1,
        maximum: 86400,
        default: 60,
        description: 'A pod whose node is NotReady or Unknown this long is replaced.',
      }),
    ),
  },
  { default: {}, description: 'How the operator replaces pods that the kubelet cannot heal.' },
);

export const computeClusterSpecSchema = obj({
  suspend: opt(
    bool({ default: false, description: 'true: delete all pods, keep the ComputeCluster and its Services.' }),
  ),
  master: masterSchema,
  workers: workersSchema,
  podRecovery: opt(podRecoverySchema),
});
export type ComputeClusterSpec = Static<typeof computeClusterSpecSchema>;

export const computeClusterStatusSchema = obj({
  observedGeneration: opt(int({ format: 'int64' })),
  phase: opt(oneOf(['Pending', 'Running', 'Degraded', 'Suspended', 'Failed'] as const)),
  conditions: opt(conditionsSchema),
  master: opt(
    obj({
      podName: opt(str()),
      serviceName: opt(str()),
      endpoint: opt(str({ description: 'host:port of the master Service.' })),
      ready: opt(bool()),
      restarts: opt(int({ description: 'Masters recreated by the operator.' })),
      uid: opt(str({ description: 'UID of the current master pod; changes with every new master.' })),
    }),
  ),
  workers: opt(
    obj({
      replicas: opt(int({ description: 'Worker pods that exist.' })),
      desiredReplicas: opt(int({ description: 'Effective desired count after clamping.' })),
      readyReplicas: opt(int()),
      updatedReplicas: opt(int({ description: 'Workers on the current template revision.' })),
      selector: opt(str({ description: 'Label selector of the worker pods (scale subresource).' })),
      summary: opt(str({ description: 'ready/desired, for the Workers printer column.' })),
    }),
  ),
  revision: opt(obj({ master: opt(str()), workers: opt(str()) })),
  recovery: opt(
    obj({
      podsReplaced: opt(int()),
      lastReason: opt(str()),
      nextAttemptTime: opt(time({ description: 'When the next replacement may happen (backoff).' })),
      failureStreak: opt(
        int({ description: 'Replacements in the current backoff streak; reset after resetAfterSeconds without one.' }),
      ),
      lastFailureTime: opt(time()),
      masterRestartTimes: opt(
        list(time(), { maxItems: 1001, description: 'Recent master recreations, for failurePolicy.maxRestarts.' }),
      ),
    }),
  ),
  activeJobs: opt(int()),
});
export type ComputeClusterStatus = Static<typeof computeClusterStatusSchema>;

const labelsSchema = mapOf(str({ maxLength: 63 }), { maxProperties: 64 });
export const templateMetadataSchema = obj({ labels: opt(labelsSchema), annotations: opt(mapOf(str())) });

export const clusterNameRule: Rule<{ metadata: { name?: string } }> = {
  rule: `!has(self.metadata.name) || (self.metadata.name.size() <= ${MAX_CLUSTER_NAME_LENGTH} && self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$'))`,
  message: `metadata.name must be a DNS-1035 label of at most ${MAX_CLUSTER_NAME_LENGTH} characters (lower-case letters, digits and '-', starting with a letter), so that <name>-worker-<index> stays a valid name`,
  reportAs: 'metadata.name',
  check: (o) =>
    o.metadata.name === undefined ||
    (o.metadata.name.length <= MAX_CLUSTER_NAME_LENGTH && /^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(o.metadata.name)),
};

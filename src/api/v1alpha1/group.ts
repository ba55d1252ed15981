// Names that users, examples and tests rely on (docs/api.md).
export const GROUP = 'compute.gaffer.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const CATEGORY = 'gaffer';

export const KINDS = {
  ComputeCluster: {
    kind: 'ComputeCluster',
    plural: 'computeclusters',
    singular: 'computecluster',
    listKind: 'ComputeClusterList',
    shortNames: ['cc'],
  },
  ComputeJob: {
    kind: 'ComputeJob',
    plural: 'computejobs',
    singular: 'computejob',
    listKind: 'ComputeJobList',
    shortNames: ['cjob'],
  },
} as const;

/**
 * Longest names that keep every derived name a DNS-1035 label (63 characters):
 * `<cluster>-worker-<index>` with an index below 10000 (maxReplicas is bounded by it);
 * `<job>-driver-<attempt>` with up to 8 attempt digits, and the ephemeral cluster `<job>`.
 */
export const MAX_WORKER_REPLICAS = 10000;
export const MAX_CLUSTER_NAME_LENGTH = 63 - '-worker-'.length - String(MAX_WORKER_REPLICAS - 1).length; // 51
export const MAX_JOB_NAME_LENGTH = 63 - '-driver-'.length - 8; // 47
/**
 * Longest worker group name. `<cluster>-<group>-<index>` must stay a DNS-1035 label too: the
 * cluster's (or job's) name and its groups' names together are checked against
 * MAX_CLUSTER_AND_GROUP_LENGTH (groupNamesFit).
 */
export const MAX_GROUP_NAME_LENGTH = 15;
export const MAX_CLUSTER_AND_GROUP_LENGTH = 63 - '--'.length - String(MAX_WORKER_REPLICAS - 1).length; // 57

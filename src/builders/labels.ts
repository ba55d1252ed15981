// Label and annotation keys, and the names of owned objects (docs/api.md "Names, labels and wiring").
export const LABELS = {
  name: 'app.kubernetes.io/name',
  managedBy: 'app.kubernetes.io/managed-by',
  cluster: 'compute.gaffer.dev/cluster',
  role: 'compute.gaffer.dev/role',
  workerIndex: 'compute.gaffer.dev/worker-index',
  /** The worker's group: spec.workerGroups[].name, or worker (spec.workers; absent on workers of older operators). */
  workerGroup: 'compute.gaffer.dev/worker-group',
  revision: 'compute.gaffer.dev/revision',
  job: 'compute.gaffer.dev/job',
  attempt: 'compute.gaffer.dev/attempt',
  /**
   * The uid of the job a driver was made for (batch/v1's controller-uid): a driver orphaned by a
   * deleted job of the same name must never be adopted by its successor.
   */
  jobUid: 'compute.gaffer.dev/job-uid',
} as const;

export const POD_DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';

/** The default worker group's name: spec.workers, pods <cluster>-worker-<index>. */
export const DEFAULT_GROUP = 'worker';

export type Role = 'master' | 'worker' | 'driver';

export const names = {
  master: (cluster: string) => `${cluster}-master`,
  masterService: (cluster: string) => `${cluster}-master`,
  workersService: (cluster: string) => `${cluster}-workers`,
  worker: (cluster: string, index: number, group: string = DEFAULT_GROUP) => `${cluster}-${group}-${index}`,
  /** The gang's PodGroup (spec.scheduling.gang). */
  podGroup: (cluster: string) => cluster,
  /** PodDisruptionBudgets: <cluster>-master, and <cluster>-<group> per worker group. */
  budget: (cluster: string, roleOrGroup: string) => `${cluster}-${roleOrGroup}`,
  driver: (job: string, attempt: number) => `${job}-driver-${attempt}`,
};

export const baseLabels = (cluster: string): Record<string, string> => ({
  [LABELS.name]: 'gaffer',
  [LABELS.managedBy]: 'gaffer',
  [LABELS.cluster]: cluster,
});

export const roleSelector = (cluster: string, role: Role): Record<string, string> => ({
  [LABELS.cluster]: cluster,
  [LABELS.role]: role,
});

export const selectorString = (labels: Record<string, string>): string =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

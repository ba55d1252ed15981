// What a ComputeJob decision asks the reconciler to do: typed actions, carried out in order
// after the status (the intent) is written.
import type { ComputeCluster } from '../../api/v1alpha1/index.ts';
import type { JobReason, Reason } from '../../api/v1alpha1/reasons.ts';
import type { V1Pod } from '../../kube/types.ts';

export type JobAction =
  | { kind: 'createCluster'; cluster: ComputeCluster }
  | { kind: 'deleteCluster'; name: string; uid: string }
  | { kind: 'createDriver'; pod: V1Pod }
  | { kind: 'deleteDriver'; name: string; uid: string; gracePeriodSeconds?: number }
  | { kind: 'deleteJob' }
  | { kind: 'event'; type: 'Normal' | 'Warning'; reason: JobReason | Reason; message: string };

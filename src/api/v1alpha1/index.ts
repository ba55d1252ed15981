export * from './group.ts';
export * from './resources.ts';
export type {
  ComputeClusterSpec,
  ComputeClusterStatus,
  ResolvedComputeClusterSpec,
  ServicePort,
} from './computecluster.ts';
export type { ComputeJobSpec, ComputeJobStatus, ResolvedComputeJobSpec, Attempt, FailureRule } from './computejob.ts';
export type { Backoff, Condition } from './common.ts';
export type { Resolved } from './dsl.ts';
export {
  validateObject,
  validateAs,
  validateCluster,
  validateJob,
  validateStoredCluster,
  validateStoredJob,
  type FieldError,
  type ValidationResult,
} from './validate.ts';

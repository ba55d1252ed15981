export * from './group.ts';
export * from './resources.ts';
export type { ComputeClusterSpec, ComputeClusterStatus, ServicePort } from './computecluster.ts';
export type { ComputeJobSpec, ComputeJobStatus, Attempt, FailureRule } from './computejob.ts';
export type { Backoff, Condition } from './common.ts';
export { validateObject, validateAs, type FieldError, type ValidationResult } from './validate.ts';

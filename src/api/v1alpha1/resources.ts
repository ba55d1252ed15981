// The two kinds as whole objects: the single source for types, validation and CRDs.
import type { V1ObjectMeta } from '../../kube/types.ts';
import {
  clusterGroupNamesRule,
  clusterNameRule,
  computeClusterSpecSchema,
  computeClusterStatusSchema,
  type ComputeClusterSpec,
  type ComputeClusterStatus,
  type ResolvedComputeClusterSpec,
} from './computecluster.ts';
import {
  computeJobSpecSchema,
  computeJobStatusSchema,
  jobGroupNamesRule,
  jobNameRule,
  type ComputeJobSpec,
  type ComputeJobStatus,
  type ResolvedComputeJobSpec,
} from './computejob.ts';
import { Type, opt, str, type Rule, type TSchema } from './dsl.ts';
import { API_VERSION, KINDS } from './group.ts';

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'boolean' | 'date' | 'number';
  jsonPath: string;
  description?: string;
  priority?: number;
}

export interface KindDefinition {
  kind: string;
  plural: string;
  singular: string;
  listKind: string;
  shortNames: readonly string[];
  schema: TSchema;
  printerColumns: PrinterColumn[];
  scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath: string };
}

const root = (kind: string, spec: TSchema, status: TSchema, rules: Rule[]) =>
  Type.Object(
    {
      apiVersion: opt(str({ description: `Version of the schema of this object: ${API_VERSION}.` })),
      kind: opt(str({ description: `Kind of this object: ${kind}.` })),
      // The API server owns metadata's schema (kubectl explain shows ObjectMeta's): a CRD may
      // only say it is an object, not even describe it.
      metadata: Type.Unsafe<V1ObjectMeta>({ type: 'object' }),
      spec,
      status: opt(status),
    },
    { 'x-gaffer-rules': rules, description: `${kind} (${API_VERSION}); see docs/api.md.` },
  );

/** With `-o wide`: the Kueue queue (the label), and why Kueue has not admitted it (the Queued condition). */
const QUEUE_COLUMNS: PrinterColumn[] = [
  { name: 'Queue', type: 'string', jsonPath: '.metadata.labels.kueue\\.x-k8s\\.io/queue-name', priority: 1 },
  { name: 'Queued', type: 'string', jsonPath: '.status.conditions[?(@.type=="Queued")].message', priority: 1 },
];

export const computeClusterKind: KindDefinition = {
  ...KINDS.ComputeCluster,
  schema: root('ComputeCluster', computeClusterSpecSchema, computeClusterStatusSchema, [
    clusterNameRule,
    clusterGroupNamesRule,
  ]),
  printerColumns: [
    { name: 'Workers', type: 'string', jsonPath: '.status.workers.summary', description: 'Ready/desired workers' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    { name: 'Master', type: 'boolean', jsonPath: '.status.master.ready', description: 'Master pod ready' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ...QUEUE_COLUMNS,
  ],
  scale: {
    specReplicasPath: '.spec.workers.replicas',
    statusReplicasPath: '.status.workers.replicas',
    labelSelectorPath: '.status.workers.selector',
  },
};

export const computeJobKind: KindDefinition = {
  ...KINDS.ComputeJob,
  schema: root('ComputeJob', computeJobSpecSchema, computeJobStatusSchema, [jobNameRule, jobGroupNamesRule]),
  printerColumns: [
    { name: 'Cluster', type: 'string', jsonPath: '.status.clusterName' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    { name: 'Attempts', type: 'integer', jsonPath: '.status.attemptCount' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    { name: 'Duration', type: 'string', jsonPath: '.status.duration' },
    ...QUEUE_COLUMNS,
  ],
};

export const ALL_KINDS = [computeClusterKind, computeJobKind];

interface Resource<S, T> {
  apiVersion?: string;
  kind?: string;
  metadata: V1ObjectMeta;
  spec: S;
  status?: T;
}
export type ComputeCluster = Resource<ComputeClusterSpec, ComputeClusterStatus>;
export type ComputeJob = Resource<ComputeJobSpec, ComputeJobStatus>;
/** A ComputeCluster as validateCluster returns it: every schema default filled in. */
export type ValidComputeCluster = Resource<ResolvedComputeClusterSpec, ComputeClusterStatus>;
/** A ComputeJob as validateJob returns it: every schema default filled in, clusterTemplate.spec's too. */
export type ValidComputeJob = Resource<ResolvedComputeJobSpec, ComputeJobStatus>;

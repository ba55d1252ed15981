// The Kubernetes object types the rest of the operator uses, re-exported so that only
// src/kube imports @kubernetes/client-node (the lint's import boundary). Types only: no
// code here talks to the API server.
export type {
  KubeConfig,
  V1Container,
  V1EnvVar,
  V1Node,
  V1ObjectMeta,
  V1OwnerReference,
  V1Pod,
  V1PodCondition,
  V1PodTemplateSpec,
  V1Service,
  V1ServicePort,
} from '@kubernetes/client-node';

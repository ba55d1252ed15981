// Pure builders of the master Service and the headless workers Service.
import type { V1Service, V1ServicePort } from '../kube/types.ts';
import { API_VERSION } from '../api/v1alpha1/group.ts';
import type { ValidComputeCluster as ComputeCluster } from '../api/v1alpha1/index.ts';
import { nameOf } from '../kube/meta.ts';
import { baseLabels, names, roleSelector } from './labels.ts';
import { workerGroups } from './groups.ts';
import { controllerRef } from './owner.ts';

/** spec.master.ports, or else the master template's container ports. */
export function masterPorts(c: ComputeCluster): V1ServicePort[] {
  if (c.spec.master.ports?.length) {
    return c.spec.master.ports.map((p) => ({
      ...(p.name ? { name: p.name } : {}),
      port: p.port,
      targetPort: p.targetPort ?? p.port,
      protocol: p.protocol ?? 'TCP',
      ...(p.nodePort ? { nodePort: p.nodePort } : {}),
    }));
  }
  return containerPorts(c.spec.master.template.spec?.containers ?? []);
}

function containerPorts(
  containers: { ports?: { name?: string; containerPort: number; protocol?: string }[] }[],
): V1ServicePort[] {
  const seen = new Set<string>();
  const named = new Set<string>();
  const out: V1ServicePort[] = [];
  for (const c of containers) {
    for (const p of c.ports ?? []) {
      const key = `${p.containerPort}/${p.protocol ?? 'TCP'}`;
      if (seen.has(key)) continue;
      seen.add(key);
      // Worker groups may give one name to different ports: the first keeps it (names are unique).
      const name = p.name && !named.has(p.name) ? p.name : undefined;
      if (name) named.add(name);
      out.push({
        ...(name ? { name } : {}),
        port: p.containerPort,
        targetPort: p.containerPort,
        protocol: p.protocol ?? 'TCP',
      });
    }
  }
  // A Service with several ports needs every port named.
  if (out.length > 1)
    out.forEach((p, i) => {
      p.name ??= named.has(`port-${i}`) ? `port-${i}-${p.port}` : `port-${i}`;
    });
  return out;
}

const owned = (c: ComputeCluster) => [controllerRef(c, API_VERSION, 'ComputeCluster')];

export function buildMasterService(c: ComputeCluster): V1Service {
  const cluster = nameOf(c);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: names.masterService(cluster),
      namespace: c.metadata.namespace,
      labels: { ...baseLabels(cluster), 'compute.gaffer.dev/role': 'master' },
      ownerReferences: owned(c),
    },
    spec: {
      type: c.spec.master.serviceType ?? 'ClusterIP',
      selector: roleSelector(cluster, 'master'),
      ports: masterPorts(c),
    },
  };
}

export function buildWorkersService(c: ComputeCluster): V1Service {
  const cluster = nameOf(c);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: names.workersService(cluster),
      namespace: c.metadata.namespace,
      labels: { ...baseLabels(cluster), 'compute.gaffer.dev/role': 'worker' },
      ownerReferences: owned(c),
    },
    spec: {
      clusterIP: 'None',
      selector: roleSelector(cluster, 'worker'),
      // Workers find each other before they are Ready (many frameworks need that to start).
      publishNotReadyAddresses: true,
      // Every group's container ports: the Service covers all workers.
      ports: containerPorts(workerGroups(c).flatMap((g) => g.pool.template.spec?.containers ?? [])),
    },
  };
}

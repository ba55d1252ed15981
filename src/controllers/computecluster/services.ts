// Whether an existing Service carries what Gaffer sets on it (pure): server-side apply runs only when not.
import type { V1Service } from '../../kube/types.ts';

/** Whether the fields Gaffer sets on a Service are as desired (server defaults ignored). */
export function serviceMatches(existing: V1Service, desired: V1Service): boolean {
  const ports = (s: V1Service, withNodePort: boolean) =>
    (s.spec?.ports ?? []).map((p) => ({
      name: p.name ?? '',
      port: p.port,
      targetPort: String(p.targetPort ?? p.port),
      protocol: p.protocol ?? 'TCP',
      ...(withNodePort && p.nodePort ? { nodePort: p.nodePort } : {}),
    }));
  const wantNodePorts = (desired.spec?.ports ?? []).some((p) => p.nodePort);
  return (
    JSON.stringify(ports(existing, wantNodePorts)) === JSON.stringify(ports(desired, wantNodePorts)) &&
    (existing.spec?.type ?? 'ClusterIP') === (desired.spec?.type ?? 'ClusterIP') &&
    JSON.stringify(existing.spec?.selector ?? {}) === JSON.stringify(desired.spec?.selector ?? {}) &&
    !!existing.spec?.publishNotReadyAddresses === !!desired.spec?.publishNotReadyAddresses &&
    Object.entries(desired.metadata?.labels ?? {}).every(([k, v]) => existing.metadata?.labels?.[k] === v) &&
    (existing.metadata?.ownerReferences ?? []).some((r) => r.uid === desired.metadata?.ownerReferences?.[0]?.uid)
  );
}

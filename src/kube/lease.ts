import { namespacedKey } from '../runtime/keys.ts';
import type { LeaseRecord, LeaseStore } from '../runtime/leaderelection.ts';
import { isNotFound } from './errors.ts';
import type { KubeClient } from './client.ts';
import type { Lease } from './types.ts';
import { formatMicroTime } from './wire.ts';

const toRecord = (l: Lease): LeaseRecord => ({
  holderIdentity: l.spec?.holderIdentity ?? undefined,
  leaseDurationSeconds: l.spec?.leaseDurationSeconds ?? undefined,
  acquireTime: l.spec?.acquireTime ? new Date(l.spec.acquireTime).toISOString() : undefined,
  renewTime: l.spec?.renewTime ? new Date(l.spec.renewTime).toISOString() : undefined,
  leaseTransitions: l.spec?.leaseTransitions ?? undefined,
});

const toSpec = (r: LeaseRecord): Lease['spec'] => ({
  holderIdentity: r.holderIdentity,
  leaseDurationSeconds: r.leaseDurationSeconds,
  // The API wants MicroTimes: six fractional digits.
  acquireTime: r.acquireTime ? formatMicroTime(r.acquireTime) : undefined,
  renewTime: r.renewTime ? formatMicroTime(r.renewTime) : undefined,
  leaseTransitions: r.leaseTransitions,
});

export function leaseStore(client: KubeClient, namespace: string, name: string): LeaseStore {
  return {
    describe: namespacedKey(namespace, name),
    async get(signal) {
      try {
        const l = await client.readLease(namespace, name, signal);
        return { record: toRecord(l), resourceVersion: l.metadata?.resourceVersion ?? '' };
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
    },
    async create(record, signal) {
      const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace } };
      await client.createLease(namespace, { ...lease, spec: toSpec(record) }, signal);
    },
    async update(record, resourceVersion, signal) {
      const lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace, resourceVersion },
      };
      await client.replaceLease(namespace, name, { ...lease, spec: toSpec(record) }, signal);
    },
  };
}

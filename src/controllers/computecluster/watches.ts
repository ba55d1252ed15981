// What makes a ComputeCluster be reconciled: its own changes, and those of its pods,
// Services, nodes and jobs. Handlers only enqueue keys.
import { LABELS } from '../../builders/labels.ts';
import type { Controller } from '../../runtime/controller.ts';
import type { Cache } from '../../runtime/informer.ts';
import type { ClusterDeps } from './reconciler.ts';

const clusterKeyOf = (o: any): string[] => {
  const c = o.metadata?.labels?.[LABELS.cluster];
  return c ? [`${o.metadata.namespace}/${c}`] : [];
};

export function addIndexes(d: Pick<ClusterDeps, 'pods' | 'services' | 'jobs'>): void {
  d.pods.addIndex('cluster', clusterKeyOf);
  d.pods.addIndex('node', (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []));
  d.services.addIndex('cluster', clusterKeyOf);
  d.jobs.addIndex('cluster', (j) => (j.status?.clusterName ? [`${j.metadata.namespace}/${j.status.clusterName}`] : []));
}

const nodeReady = (n: any) => n?.status?.conditions?.find((c: any) => c.type === 'Ready')?.status;

export function watchClusters(
  ctl: Controller,
  d: Pick<ClusterDeps, 'clusters' | 'pods' | 'services' | 'nodes' | 'jobs'>,
): void {
  const key = (o: any) => `${o.metadata.namespace}/${o.metadata.name}`;
  d.clusters.on((e) => {
    // Our own status writes do not need a reconcile; spec and metadata changes do.
    if (
      e.type === 'update' &&
      e.old.metadata.generation === e.obj.metadata.generation &&
      JSON.stringify(e.old.metadata.labels) === JSON.stringify(e.obj.metadata.labels) &&
      JSON.stringify(e.old.metadata.annotations) === JSON.stringify(e.obj.metadata.annotations) &&
      !!e.old.metadata.deletionTimestamp === !!e.obj.metadata.deletionTimestamp
    )
      return;
    ctl.enqueue(key(e.obj));
  });
  const owner = (cache: Cache<any>) =>
    cache.on((e) => {
      for (const k of clusterKeyOf(e.obj)) ctl.enqueue(k);
    });
  owner(d.pods);
  owner(d.services);
  d.nodes.on((e) => {
    if (e.type === 'update' && nodeReady(e.old) === nodeReady(e.obj)) return;
    for (const p of d.pods.byIndex('node', e.obj.metadata?.name ?? "")) for (const k of clusterKeyOf(p)) ctl.enqueue(k);
  });
  d.jobs.on((e) => {
    if (
      e.type === 'update' &&
      e.old.status?.phase === e.obj.status?.phase &&
      e.old.status?.clusterName === e.obj.status?.clusterName
    )
      return;
    const before = e.type === 'update' ? e.old : undefined;
    for (const j of [e.obj, before])
      if (j?.status?.clusterName) ctl.enqueue(`${j.metadata.namespace}/${j.status.clusterName}`);
  });
}

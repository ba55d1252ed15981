// What makes a ComputeJob be reconciled: its own changes, its driver pods, its cluster's
// master and readiness, and the nodes its drivers run on. Handlers only enqueue keys.
import { LABELS } from '../../builders/labels.ts';
import type { Controller } from '../../runtime/controller.ts';
import type { JobDeps } from './reconciler.ts';

const jobKeyOf = (p: any): string[] => {
  const j = p.metadata?.labels?.[LABELS.job];
  return j && p.metadata?.labels?.[LABELS.role] === 'driver' ? [`${p.metadata.namespace}/${j}`] : [];
};
const target = (j: any) => `${j.metadata.namespace}/${j.spec?.clusterRef?.name ?? j.metadata.name}`;
const clusterSignal = (c: any) =>
  JSON.stringify([
    c?.status?.master?.uid,
    c?.status?.conditions?.find((x: any) => x.type === 'Ready')?.status,
    c?.metadata?.generation,
    c?.status?.observedGeneration,
  ]);
const nodeReady = (n: any) => n?.status?.conditions?.find((c: any) => c.type === 'Ready')?.status;

export function addJobIndexes(d: Pick<JobDeps, 'pods' | 'jobs'>): void {
  d.pods.addIndex('job', jobKeyOf);
  d.jobs.addIndex('target', (j) => [target(j)]);
}

export function watchJobs(ctl: Controller, d: Pick<JobDeps, 'jobs' | 'pods' | 'clusters' | 'nodes'>): void {
  const key = (o: any) => `${o.metadata.namespace}/${o.metadata.name}`;
  d.jobs.on((e) => {
    if (
      e.type === 'update' &&
      e.old.metadata.generation === e.obj.metadata.generation &&
      !!e.old.metadata.deletionTimestamp === !!e.obj.metadata.deletionTimestamp
    )
      return;
    ctl.enqueue(key(e.obj));
  });
  d.pods.on((e) => {
    for (const k of jobKeyOf(e.obj)) ctl.enqueue(k);
  });
  d.clusters.on((e) => {
    if (e.type === 'update' && clusterSignal(e.old) === clusterSignal(e.obj)) return;
    for (const j of d.jobs.byIndex('target', key(e.obj))) ctl.enqueue(key(j));
  });
  d.nodes.on((e) => {
    if (e.type === 'update' && nodeReady(e.old) === nodeReady(e.obj)) return;
    for (const p of d.pods.byIndex('node', e.obj.metadata?.name ?? "")) for (const k of jobKeyOf(p)) ctl.enqueue(k);
  });
}

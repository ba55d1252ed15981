// The last state of disrupted driver pods the cache saw deleted, by job. Without a finalizer
// on its pods, the operator may reconcile only after an evicted driver is gone (KWOK, or a
// short grace period, removes it within milliseconds of the eviction): the DELETE event still
// carries the pod's last state, whose DisruptionTarget condition says why it went, so it is
// kept here until the job's reconcile has read it. Memory only: an operator restarted in that
// window counts the attempt as PodDeleted.
import type { V1Pod } from '../../kube/types.ts';
import { disruptionOf } from './attempts.ts';

interface Departed {
  pod: V1Pod;
  at: number;
}

export class DepartedDrivers {
  private readonly byJob = new Map<string, Departed[]>();

  /** `keepMs`: how long a last state is kept; the job is reconciled well within it (its delete event enqueues it). */
  constructor(private readonly keepMs: number) {}

  /** Keeps a deleted driver's last state when Kubernetes disrupted it; other deletions say nothing more. */
  record(jobKey: string, pod: V1Pod, now: number): void {
    if (!disruptionOf(pod)) return;
    for (const key of [...this.byJob.keys()]) this.fresh(key, now); // jobs deleted meanwhile too
    this.byJob.set(jobKey, [...this.fresh(jobKey, now), { pod, at: now }]);
  }

  /** The job's departed drivers, recent ones only. */
  of(jobKey: string, now: number): V1Pod[] {
    return this.fresh(jobKey, now).map((d) => d.pod);
  }

  private fresh(jobKey: string, now: number): Departed[] {
    const kept = (this.byJob.get(jobKey) ?? []).filter((d) => now - d.at < this.keepMs);
    if (kept.length) this.byJob.set(jobKey, kept);
    else this.byJob.delete(jobKey);
    return kept;
  }
}

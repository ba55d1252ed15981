// What the job reconciler remembers of one job between reconciles, as one record: dropped when
// the job goes, and started afresh when its uid changes (a job deleted and created again under
// the same name, `kubectl replace --force` or Argo CD Replace, may reach one reconcile as one
// queue item and must not inherit its predecessor's refusals, conflict or driver).
import type { PodConflict } from '../common/claim.ts';
import { Refusals } from '../computecluster/refusals.ts';
import type { CreatedDriver, DriverConflict } from './context.ts';

/** The key the conflict's backoff is kept under in its Refusals. */
const CONFLICT = 'driver-name';

export class JobMemory {
  /** Creates the API server refused, per action kind: reported on the job, retried with backoff. */
  readonly refusals = new Refusals();
  /** A pod of the active driver's name the job cannot adopt: reported until it goes. */
  private conflict: PodConflict | undefined;
  /** Conflicts in a row, for the backoff of the next create (a foreign pod's deletion wakes nothing). */
  private readonly conflictRetries = new Refusals();
  /** A create was refused (or found its name taken) just now: reconciled again at once, to say so. */
  reportNow = false;
  /**
   * The last driver created (or adopted, or found to be ours): a driver the cache never showed is
   * still known to have existed (decide).
   */
  created: CreatedDriver | undefined;

  constructor(readonly uid: string) {}

  /** The pod holding the driver's name, with when the create may be tried again. */
  get driverConflict(): DriverConflict | undefined {
    return this.conflict && { ...this.conflict, retryAt: this.conflictRetries.retryAt(CONFLICT) };
  }

  /** When the next create after a conflict is due, for requeueing. */
  get conflictRetryAt(): number | undefined {
    return this.conflictRetries.retryAt(CONFLICT);
  }

  /** Whether this conflict differs from the one reported last (a new Warning event is due). */
  isNewConflict(c: PodConflict): boolean {
    return this.conflict?.pod !== c.pod || this.conflict.why !== c.why;
  }

  /** One more conflict in a row: remembered with the job's backoff. */
  recordConflict(
    c: PodConflict,
    message: string,
    now: number,
    backoff: { initialSeconds: number; maxSeconds: number },
  ) {
    this.conflict = c;
    this.conflictRetries.record(CONFLICT, message, now, backoff);
    this.reportNow = true;
  }

  clearConflict(): void {
    this.conflict = undefined;
    this.conflictRetries.clear(CONFLICT);
  }
}

/** JobMemory per job key. */
export class JobMemories {
  private readonly byKey = new Map<string, JobMemory>();

  get(key: string): JobMemory | undefined {
    return this.byKey.get(key);
  }

  /** A fresh memory for the job now under this key. */
  start(key: string, uid: string): JobMemory {
    const m = new JobMemory(uid);
    this.byKey.set(key, m);
    return m;
  }

  /** The job is gone: what was kept for it goes too. */
  forget(key: string): void {
    this.byKey.delete(key);
  }
}

// A queued job's standing with Kueue, read from its Workload (pure), and the Workload status
// writes Kueue's protocol leaves to the job's controller: releasing the quota of an evicted
// workload once the job has stopped, and marking it finished (as Kueue's jobframework does).
import { iso } from './time.ts';
import {
  placements,
  type Placement,
  type ResourceFlavor,
  type Workload,
  type WorkloadCondition,
} from '../../builders/workload.ts';

/** Kueue's Workload condition types and the reasons Gaffer reads or writes. */
export const WL = {
  QuotaReserved: 'QuotaReserved',
  Admitted: 'Admitted',
  Evicted: 'Evicted',
  Requeued: 'Requeued',
  Finished: 'Finished',
  Preempted: 'Preempted',
  NodeFailures: 'NodeFailures',
} as const;

/**
 * Where a queued job stands: admitted (with each pod set's placement), or waiting, with Kueue's
 * reason and message (why it waits, or why it was evicted).
 */
export type Queue =
  | {
      admitted: true;
      /**
       * Each pod set's placement, for the pods created from now on (running pods keep theirs, as
       * Kueue places a job once, when it starts it); undefined while a flavor the admission names
       * is not known: creates are held, nothing is deleted.
       */
      placements: Map<string, Placement> | undefined;
      /** Why creates are held (a flavor not found), or that it runs unqueued (labelled while it ran). */
      note?: { reason: string; message: string };
    }
  | {
      admitted: false;
      reason: string;
      message: string;
      evicted?: { reason: string; message: string };
      /** Evicted and still holding its quota: released once nothing of the owner runs. */
      releasing?: boolean;
    };

const condition = (w: Workload, type: string): WorkloadCondition | undefined =>
  w.status?.conditions?.find((c) => c.type === type);
const isTrue = (w: Workload, type: string) => condition(w, type)?.status === 'True';

export const hasQuota = (w: Workload): boolean => isTrue(w, WL.QuotaReserved) && !!w.status?.admission;
export const isFinished = (w: Workload): boolean => isTrue(w, WL.Finished);
export const isEvicted = (w: Workload): boolean => isTrue(w, WL.Evicted);

/** Why a job with this Workload waits: Kueue's own words where it gave some. */
function waitingFor(w: Workload, queueName: string): { reason: string; message: string } {
  const reserved = condition(w, WL.QuotaReserved);
  if (isFinished(w))
    return {
      reason: 'WorkloadFinished',
      message: `Workload ${w.metadata.name} is finished: ${condition(w, WL.Finished)?.message}`,
    };
  if (reserved?.status === 'True')
    return {
      reason: 'AdmissionChecks',
      message: condition(w, WL.Admitted)?.message || 'quota reserved; waiting for admission checks',
    };
  if (reserved?.message)
    return { reason: reserved.reason || 'Pending', message: `LocalQueue ${queueName}: ${reserved.message}` };
  return {
    reason: 'Pending',
    message: `waiting for Kueue to admit Workload ${w.metadata.name} in LocalQueue ${queueName}`,
  };
}

/** The job's standing from its Workload (none yet: waiting for it to be created). */
export function queueOfWorkload(
  w: Workload | undefined,
  queueName: string,
  flavor: (name: string) => ResourceFlavor | undefined,
): Queue {
  if (!w) return { admitted: false, reason: 'Pending', message: `creating its Workload for LocalQueue ${queueName}` };
  const evicted = condition(w, WL.Evicted);
  const ev = evicted?.status === 'True' ? { reason: evicted.reason, message: evicted.message } : undefined;
  if (!ev && isTrue(w, WL.Admitted) && hasQuota(w) && !isFinished(w)) {
    const ps = placements(w, flavor);
    if (ps) return { admitted: true, placements: ps };
    const names = [...new Set(w.status!.admission!.podSetAssignments.flatMap((a) => Object.values(a.flavors ?? {})))];
    const message = `ResourceFlavor ${names.filter((n) => !flavor(n)).join(', ')} not found: new pods wait for it`;
    return { admitted: true, placements: undefined, note: { reason: 'FlavorNotFound', message } };
  }
  const releasing = !!ev && hasQuota(w);
  const why = releasing ? { reason: ev.reason, message: ev.message } : waitingFor(w, queueName);
  return { admitted: false, ...why, ...(ev ? { evicted: ev } : {}), ...(releasing ? { releasing } : {}) };
}

function setCondition(
  conds: WorkloadCondition[],
  c: WorkloadCondition,
  now: number,
  generation?: number,
): WorkloadCondition[] {
  const prev = conds.find((x) => x.type === c.type);
  const lastTransitionTime = prev && prev.status === c.status ? prev.lastTransitionTime : iso(now);
  const next = { ...c, lastTransitionTime, ...(generation !== undefined ? { observedGeneration: generation } : {}) };
  return [...conds.filter((x) => x.type !== c.type), next];
}

/**
 * An evicted Workload whose job has stopped: its quota released (no admission, QuotaReserved and
 * Admitted False) and Requeued set, True when Kueue requeues it by itself (a preemption, lost nodes).
 */
export function releasedStatus(w: Workload, now: number): Workload['status'] {
  const ev = condition(w, WL.Evicted)!;
  const gen = w.metadata.generation;
  const requeue = ev.reason === WL.Preempted || ev.reason === WL.NodeFailures;
  let conds = w.status?.conditions ?? [];
  conds = setCondition(
    conds,
    { type: WL.Requeued, status: requeue ? 'True' : 'False', reason: ev.reason, message: ev.message },
    now,
    gen,
  );
  conds = setCondition(
    conds,
    { type: WL.QuotaReserved, status: 'False', reason: 'Pending', message: ev.message },
    now,
    gen,
  );
  if (condition(w, WL.Admitted))
    conds = setCondition(
      conds,
      { type: WL.Admitted, status: 'False', reason: 'NoReservation', message: 'The workload has no reservation' },
      now,
      gen,
    );
  const { admission: _, ...rest } = w.status ?? {};
  return { ...rest, conditions: conds };
}

/** The Workload of a finished job: Finished, with the job's outcome (Succeeded or Failed) and message. */
export function finishedStatus(w: Workload, succeeded: boolean, message: string, now: number): Workload['status'] {
  const c: WorkloadCondition = {
    type: WL.Finished,
    status: 'True',
    reason: succeeded ? 'Succeeded' : 'Failed',
    message,
  };
  return { ...(w.status ?? {}), conditions: setCondition(w.status?.conditions ?? [], c, now, w.metadata.generation) };
}

/** The reason of a Queued condition that says the object runs unqueued (labelled while it ran). */
export const RUNNING_UNQUEUED = 'RunningUnqueued';

/**
 * Whether a labelled object is held to Kueue's admission: once it has been queued (its status has
 * a Queued condition), or while nothing of it runs. Kueue's webhooks forbid setting a queue on a
 * running job; Gaffer cannot refuse the label, so an object labelled while it runs (or running
 * when the integration is turned on) is not stopped: it runs on unqueued until it stops.
 */
export function heldToQueue(conditions: { type: string; reason: string }[] | undefined, active: boolean): boolean {
  const queued = conditions?.find((c) => c.type === 'Queued');
  return (!!queued && queued.reason !== RUNNING_UNQUEUED) || !active;
}

/** An admitted cluster whose pod templates changed: stopped, to be queued again at what it asks now. */
export const TEMPLATES_CHANGED: Queue = {
  admitted: false,
  reason: 'TemplatesChanged',
  message: 'its pod templates changed while admitted: its pods stop, then it is queued again for what it asks now',
};

/** What a suspended labelled object's Queued condition says (it keeps one, so that a resume is held to the queue). */
export const SUSPENDED_MESSAGE =
  'suspended: it asks Kueue for no quota (its Workload is removed once its pods are gone)';

/** An object labelled while it ran: admitted as it is, placed nowhere, said so on its Queued condition. */
export const runningUnqueued: Queue = {
  admitted: true,
  placements: new Map(),
  note: {
    reason: RUNNING_UNQUEUED,
    message: 'labelled kueue.x-k8s.io/queue-name while it ran: it runs on unqueued; suspend and resume it to queue it',
  },
};

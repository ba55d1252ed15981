// Decides what a ComputeCluster needs, from what is observed (pure; no I/O), as an ordered
// list of named steps: observe → backoff → master → replace broken workers → scale and roll
// → intent. The reconciler records the intent in status first, then carries out the actions.
import type { ValidComputeCluster } from '../../api/v1alpha1/index.ts';
import type { StaleWiring } from '../../builders/pods.ts';
import { uidOf } from '../../kube/meta.ts';
import type { V1Pod } from '../../kube/types.ts';
import type { NodeLookup } from '../common/podhealth.ts';
import { soonest } from '../common/time.ts';
import type { Waiting } from '../common/expectations.ts';
import { deletesOf, type ClusterAction, type DeletePod } from './actions.ts';
import { planMaster, retiringMaster, type MasterStep } from './master.ts';
import { observe, type Observed } from './observe.ts';
import {
  backoffGate,
  pendingRetirements,
  plannedRecovery,
  recoveryIntent,
  redoRetirements,
  type RecoveryIntent,
  type RetiringPod,
} from './recovery.ts';
import { brokenWorkers, groupsOf, removedGroups, replaceBroken, scaleAndRoll, type WorkersStep } from './workers.ts';
import { startupDeadline, type StartupBlocked } from './startupdeadline.ts';
import { gangScheduled } from './gang.ts';

export { desiredWorkerCount, maxUnavailableCount, scaleDownOrder } from './workers.ts';
export type { Observed } from './observe.ts';

export interface ClusterPlan {
  /** Status fields to write before acting (crash safety: intent survives a restart). */
  intent?: RecoveryIntent;
  /** status.recovery after this plan (the intent's, or the one in status with finished retirements dropped). */
  recovery: NonNullable<ValidComputeCluster['status']>['recovery'];
  /** In order: deletes, then events, then creates. */
  actions: ClusterAction[];
  /** The soonest time something is due (backoff, node loss, restart window). */
  wakeAt?: number;
  stalled?: { reason: string; message: string };
  /** Pods that did not start (startupdeadline.ts): reported as Stalled, nothing is done to them. */
  startupBlocked?: StartupBlocked;
  /** What is being done, for the Reconciling condition. */
  progress: string[];
  observed: Observed;
  /** Pod writes held back until the cache shows those sent earlier (holdPodWrites). */
  held?: boolean;
  /**
   * Uids of pods deleted by an earlier reconcile that the cache still shows live: they are gone
   * for status (a master's uid put back would read as a master lost once the cache catches up).
   */
  deleting?: ReadonlySet<string>;
}

const skipped: WorkersStep = { actions: [], progress: [], replaced: 0 };

/** The actions sorted into the order the reconciler carries them out: deletes, events, creates. */
function ordered(actions: ClusterAction[]): ClusterAction[] {
  const rank = { deletePod: 0, event: 1, createPod: 2 } as const;
  return actions
    .map((a, i) => ({ a, i }))
    .sort((x, y) => rank[x.a.kind] - rank[y.a.kind] || x.i - y.i)
    .map(({ a }) => a);
}

/** The steps of several groups as one. */
function merged(steps: WorkersStep[]): WorkersStep {
  return {
    actions: steps.flatMap((s) => s.actions),
    progress: steps.flatMap((s) => s.progress),
    wakeAt: soonest(...steps.map((s) => s.wakeAt)),
    replaced: steps.reduce((n, s) => n + s.replaced, 0),
  };
}

/**
 * Workers: broken ones replaced (one backoff for the whole cluster), removed groups' workers
 * deleted, then each group scaled and rolled out on its own; unless the master's RestartCluster
 * is taking them all down.
 */
function planWorkers(
  c: ValidComputeCluster,
  obs: Observed,
  master: MasterStep,
  otherDeletes: DeletePod[],
  gate: ReturnType<typeof backoffGate>,
  now: number,
  held?: string,
) {
  if (master.restartCluster) return { broken: skipped, scaled: skipped };
  const deleting = new Set([...otherDeletes, ...deletesOf(master.actions)].map((d) => d.name));
  const broken = replaceBroken(obs, brokenWorkers(c, obs, deleting), gate, now);
  for (const d of deletesOf(broken.actions)) deleting.add(d.name);
  const removed = removedGroups(c, obs, deleting);
  for (const d of deletesOf(removed.actions)) deleting.add(d.name);
  const scaled = merged([removed, ...groupsOf(c, obs).map((g) => scaleAndRoll(c, obs, g, deleting, now, held))]);
  return { broken, scaled };
}

/** Deletes counted already and sent again (status.recovery.retiring), and the master's step given them. */
function retirements(
  c: ValidComputeCluster,
  obs: Observed,
  gate: ReturnType<typeof backoffGate>,
  now: number,
  held?: string,
) {
  const pods = [obs.master, ...obs.workers].filter((p): p is V1Pod => !!p);
  const pending: RetiringPod[] = pendingRetirements(c, pods);
  const redo = redoRetirements(pending, pods);
  const masterRetiring = !!obs.master && redo.some((d) => d.uid === uidOf(obs.master!));
  const master = masterRetiring ? retiringMaster(c) : planMaster(c, obs, gate, now, held);
  return { pending, redo, master };
}

/**
 * `staleWiring`: template-only pods whose live env lacks the current wiring (hasCurrentWiring),
 * by uid. `rolloutHeld`: why outdated pods must not be replaced now (the gang's PodGroup is
 * refused: pods of the new revision would join a gang nothing places); failures, scaling and
 * creation go on.
 */
export function planCluster(
  c: ValidComputeCluster,
  pods: V1Pod[],
  nodes: NodeLookup,
  now: number,
  staleWiring?: StaleWiring,
  rolloutHeld?: string,
): ClusterPlan {
  const seen = observe(pods, nodes, c.spec.podRecovery, now, staleWiring);
  const gate = backoffGate(c, now);
  const { pending, redo, master } = retirements(c, seen.observed, gate, now, rolloutHeld);
  const otherDeletes = [...seen.forceDeletes, ...redo];
  const { broken, scaled } = planWorkers(c, seen.observed, master, otherDeletes, gate, now, rolloutHeld);
  const startup = startupDeadline(seen.observed, c.spec.podRecovery.startupDeadlineSeconds, now);
  const gang = gangScheduled(c, seen.observed, undefined, now);
  const intent = recoveryIntent(
    c,
    {
      failures: broken.replaced + (master.restart ? 1 : 0),
      // The workers' reason wins: it is the latest failure seen.
      lastReason: broken.lastReason ?? master.reason,
      masterRestart: master.restart,
      clearMasterUid: master.clearMasterUid,
      // Recorded by uid before they are sent: a retry sends them again without counting them again.
      retire: [...(master.restart ? deletesOf(master.actions) : []), ...deletesOf(broken.actions)],
      pending,
    },
    gate,
    now,
  );
  return {
    intent,
    recovery: plannedRecovery(c, intent, pending),
    actions: ordered([...seen.forceDeletes, ...redo, ...master.actions, ...broken.actions, ...scaled.actions]),
    wakeAt: soonest(seen.wakeAt, master.wakeAt, broken.wakeAt, scaled.wakeAt, startup.wakeAt, gang.wakeAt),
    stalled: master.stalled,
    startupBlocked: startup.blocked,
    progress: [...master.progress, ...broken.progress, ...scaled.progress],
    observed: seen.observed,
  };
}

/**
 * The plan while pod creates or deletes sent earlier are not in the cache yet: no pod writes
 * (nor their events and intent), as a ReplicaSet waits for its expectations; the rest (status)
 * stands. It wakes when they expire, if no watch event comes first.
 */
export function holdPodWrites(c: ValidComputeCluster, plan: ClusterPlan, waiting: Waiting): ClusterPlan {
  const what = `waiting for the cache to show ${waiting.creates} pod create(s) and ${waiting.deletes} delete(s)`;
  return {
    ...plan,
    intent: undefined,
    recovery: plan.intent ? c.status?.recovery : plan.recovery,
    actions: [],
    held: true,
    deleting: waiting.deleting,
    progress: [...plan.progress, what],
    wakeAt: soonest(plan.wakeAt, waiting.expiresAt),
  };
}

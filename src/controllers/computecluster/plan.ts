// Decides what a ComputeCluster needs, from what is observed (pure; no I/O), as an ordered
// list of named steps: observe → backoff → master → replace broken workers → scale and roll
// → intent. The reconciler records the intent in status first, then carries out the actions.
import type { ValidComputeCluster } from '../../api/v1alpha1/index.ts';
import type { V1Pod } from '../../kube/types.ts';
import type { NodeLookup } from '../common/podhealth.ts';
import { soonest } from '../common/time.ts';
import { deletesOf, type ClusterAction, type DeletePod } from './actions.ts';
import { planMaster, type MasterStep } from './master.ts';
import { observe, type Observed } from './observe.ts';
import { backoffGate, recoveryIntent, type RecoveryIntent } from './recovery.ts';
import { brokenWorkers, desiredWorkerCount, replaceBroken, scaleAndRoll, type WorkersStep } from './workers.ts';

export { desiredWorkerCount, maxUnavailableCount, scaleDownOrder } from './workers.ts';
export type { Observed } from './observe.ts';

export interface ClusterPlan {
  /** Status fields to write before acting (crash safety: intent survives a restart). */
  intent?: RecoveryIntent;
  /** In order: deletes, then events, then creates. */
  actions: ClusterAction[];
  /** The soonest time something is due (backoff, node loss, restart window). */
  wakeAt?: number;
  desiredWorkers: number;
  stalled?: { reason: string; message: string };
  /** What is being done, for the Reconciling condition. */
  progress: string[];
  observed: Observed;
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

/** Workers: replaced and scaled, unless the master's RestartCluster is taking them all down. */
function planWorkers(
  c: ValidComputeCluster,
  obs: Observed,
  master: MasterStep,
  forceDeletes: DeletePod[],
  gate: ReturnType<typeof backoffGate>,
  now: number,
) {
  if (master.restartCluster) return { broken: skipped, scaled: skipped };
  const deleting = new Set([...forceDeletes, ...deletesOf(master.actions)].map((d) => d.name));
  const broken = replaceBroken(obs, brokenWorkers(obs, deleting), gate, now);
  for (const d of deletesOf(broken.actions)) deleting.add(d.name);
  const scaled = scaleAndRoll(c, obs, deleting, desiredWorkerCount(c), now);
  return { broken, scaled };
}

export function planCluster(c: ValidComputeCluster, pods: V1Pod[], nodes: NodeLookup, now: number): ClusterPlan {
  const seen = observe(pods, nodes, c.spec.podRecovery, now);
  const gate = backoffGate(c, now);
  const master = planMaster(c, seen.observed, gate, now);
  const { broken, scaled } = planWorkers(c, seen.observed, master, seen.forceDeletes, gate, now);
  const intent = recoveryIntent(
    c,
    {
      failures: broken.replaced + (master.restart ? 1 : 0),
      // The workers' reason wins: it is the latest failure seen.
      lastReason: broken.lastReason ?? master.reason,
      masterRestart: master.restart,
      clearMasterUid: master.clearMasterUid,
    },
    gate,
    now,
  );
  return {
    intent,
    actions: ordered([...seen.forceDeletes, ...master.actions, ...broken.actions, ...scaled.actions]),
    wakeAt: soonest(seen.wakeAt, master.wakeAt, broken.wakeAt, scaled.wakeAt),
    desiredWorkers: desiredWorkerCount(c),
    stalled: master.stalled,
    progress: [...master.progress, ...broken.progress, ...scaled.progress],
    observed: seen.observed,
  };
}

// ComputeCluster reconcile: a thin sequence of idempotent steps (KubeRay style).
//   1. Services   2. plan from the caches   3. record intent in status
//   4. delete, then create pods   5. write status if it changed   6. requeue when something is due
import {
  API_VERSION,
  GROUP,
  KINDS,
  VERSION,
  validateStoredCluster,
  type ComputeCluster,
  type ComputeClusterStatus,
  type ComputeJob,
  type ValidComputeCluster,
} from '../../api/v1alpha1/index.ts';
import { CLUSTER_REASONS, CONDITIONS } from '../../api/v1alpha1/reasons.ts';
import { LABELS } from '../../builders/labels.ts';
import { workerGroups } from '../../builders/groups.ts';
import { hasCurrentWiring, masterRevision, revisionToRelabel, workerRevision } from '../../builders/pods.ts';
import { controllerRef, isControlledBy } from '../../builders/owner.ts';
import { buildMasterService, buildWorkersService } from '../../builders/services.ts';
import type { KubeClient } from '../../kube/client.ts';
import { errorMessage, isAlreadyExists, isConflict, isNotFound, isRefused } from '../../kube/errors.ts';
import type { EventRecorder } from '../../kube/events.ts';
import { hasExited, labelOf, nameOf, namespaceOf, uidOf } from '../../kube/meta.ts';
import type { V1Node, V1Pod, V1PodDisruptionBudget, V1Service } from '../../kube/types.ts';
import type { ReconcileContext, ReconcileResult, Reconciler } from '../../runtime/controller.ts';
import type { Cache } from '../../runtime/informer.ts';
import { namespacedKey } from '../../runtime/keys.ts';
import { Expectations } from '../common/expectations.ts';
import { LiveNodeCheck } from '../common/nodecheck.ts';
import {
  adoptPod,
  claimTakenName,
  readNodeLive,
  stallInvalidSpec,
  statusEqual,
  tolerated,
  writeStatus,
  type ApiErrorTest,
} from '../common/writes.ts';
import { createsOf, deletesOf, eventsOf, type ClusterAction } from './actions.ts';
import { claimPods, conflictMessage, whyNotAdoptable, type PodConflict } from './claim.ts';
import { disagreement, liveChecks } from './confirm.ts';
import { holdPodWrites, planCluster, type ClusterPlan } from './plan.ts';
import { DisruptionBudgets } from './budgets.ts';
import { reportRefusals } from './owned.ts';
import { GangPodGroups } from './podgroup.ts';
import { Refusals } from './refusals.ts';
import { serviceMatches } from './services.ts';
import { computeClusterStatus } from './status.ts';
import { placePod, queuedView, suspendedView } from './queue.ts';
import { hasQuota, heldToQueue, runningUnqueued, TEMPLATES_CHANGED } from '../common/queue.ts';
import { KueueWorkloads, type KueueCaches, type WorkloadOwner } from '../common/workloads.ts';
import { clusterPodSets, queueOf, templatesChanged } from '../../builders/workload.ts';

export { serviceMatches }; // tests import it from here

export const CLUSTER_REF = { group: GROUP, version: VERSION, plural: KINDS.ComputeCluster.plural };

export interface ClusterDeps {
  client: KubeClient;
  clusters: Cache<ComputeCluster>;
  pods: Cache<V1Pod>;
  services: Cache<V1Service>;
  budgets: Cache<V1PodDisruptionBudget>;
  nodes: Cache<V1Node>;
  jobs: Cache<ComputeJob>;
  events: EventRecorder;
  resyncMs: number;
  /** With the Kueue integration on (--kueue): the Workloads and ResourceFlavors. */
  kueue?: KueueCaches;
}

/** API errors each action takes as done already. */
const TOLERATES: Record<ClusterAction['kind'], readonly ApiErrorTest[]> = {
  // Gone already, or (409 on the uid precondition) a different pod of that name by now.
  deletePod: [isNotFound, isConflict],
  // A pod of that name exists already (ours, from a reconcile the cache has not caught up with).
  createPod: [isAlreadyExists],
  event: [],
};

/** What creating the planned pods came to: the API server's refusal, and the names held by others. */
interface CreateOutcome {
  refused?: string;
  conflicts: PodConflict[];
  /** Creates were sent (none planned counts: no conflict is left); false while the plan waits or backs off. */
  tried: boolean;
}

const ACTIVE_JOB_PHASES = new Set(['Running']);

/** How soon a cluster whose pod cache was found behind the API server is tried again. */
const CACHE_CATCH_UP_MS = 1000;

/**
 * A loss counted (status.recovery, status.master.restarts) is said at info with what was seen:
 * the one line that tells a real loss from one counted twice when reading a log.
 */
function logCounted(c: ValidComputeCluster, plan: ClusterPlan, log: ReconcileContext['log']): void {
  const before = c.status?.recovery?.podsReplaced ?? 0;
  const after = plan.intent?.recovery.podsReplaced ?? before;
  if (after === before) return;
  const lost = plan.observed.master ? nameOf(plan.observed.master) : undefined;
  log.info('counted a pod loss', {
    podsReplaced: after,
    masterRestarts: plan.intent?.masterRestarts,
    reason: plan.intent?.recovery.lastReason,
    masterPod: lost ?? 'none in the cache',
    masterUidInStatus: c.status?.master?.uid || undefined,
    masterRestartsInStatus: c.status?.master?.restarts ?? 0,
    // Which version of the cluster the count was made from (a second count from a cache that
    // mixes an older status with a newer one shows here).
    resourceVersion: c.metadata.resourceVersion,
    problems: Object.fromEntries([...plan.observed.problems].map(([pod, p]) => [pod, p.reason])),
  });
}

export class ComputeClusterReconciler implements Reconciler {
  /** Pod creations the API server refused. */
  private readonly createFailures = new Refusals();
  /** Service applies the API server refused. */
  private readonly serviceFailures = new Refusals();
  /**
   * Names held by pods the cluster cannot adopt: retried with backoff, not in a hot loop (a
   * foreign pod's deletion wakes nothing).
   */
  private readonly conflicts = new Refusals();
  /** Pod creates and deletes sent and not yet seen in the cache, per cluster (watches.ts lowers them). */
  readonly expectations = new Expectations();
  /** Nodes absent from the cache are confirmed gone live before a pod on one is judged lost. */
  private readonly nodeCheck: LiveNodeCheck;
  /**
   * Per cluster, the template-only pods whose live env was read (by uid): the full revision it
   * was compared with and whether it had that wiring. One read per pod and revision: a pod
   * relabelled is template-only no more, one with an older wiring is outdated and goes.
   */
  private readonly wiring = new Map<string, Map<string, { revision: string; current: boolean }>>();

  /** The cluster's PodDisruptionBudgets (budgets.ts), with their refusals. */
  private readonly budgets: DisruptionBudgets;
  /** The gang's PodGroup (podgroup.ts), with its refusals. */
  private readonly gang: GangPodGroups;
  /** The Kueue Workloads of queued clusters, when the integration is on. */
  private readonly workloads?: KueueWorkloads;

  constructor(private readonly d: ClusterDeps) {
    this.nodeCheck = new LiveNodeCheck(d.nodes);
    if (d.kueue) this.workloads = new KueueWorkloads(d.client, d.kueue, d.events);
    this.budgets = new DisruptionBudgets(d);
    this.gang = new GangPodGroups(d);
  }

  async reconcile(key: string, { log }: ReconcileContext): Promise<ReconcileResult | void> {
    const obj = this.d.clusters.get(key);
    if (!obj || obj.metadata.deletionTimestamp) return this.forget(key);
    const checked = validateStoredCluster(obj);
    if (!checked.ok) return stallInvalidSpec(this.d.client, CLUSTER_REF, obj, checked.errors, { phase: 'Failed' });
    const { owner, workload, queued } = this.queued(key, checked.value);
    const c = queued?.view ?? checked.value;
    const now = Date.now();

    const serviceError = await this.ensureServices(key, obj, c, now, log);
    const step = { key, obj, c, now, log };
    const budgetError = await this.budgets.ensure(step);
    // Before the pods: they name the gang's PodGroup, and the scheduler holds them until it exists.
    const podGroupError = await this.gang.ensure(step);
    const plan = await this.plan(key, c, now, log, podGroupError);
    const behind = await this.cacheBehind(c, plan);
    if (behind) {
      log.info('the pod cache is behind the API server; counting nothing until it catches up', { why: behind });
      return { requeueAfterMs: CACHE_CATCH_UP_MS };
    }
    const activeJobs = this.d.jobs.byIndex('cluster', key).filter((j) => ACTIVE_JOB_PHASES.has(j.status?.phase ?? ''));
    const statusOf = (base: ComputeCluster, createError?: string, podConflict?: string, p: ClusterPlan = plan) =>
      computeClusterStatus(
        { ...c, status: base.status },
        {
          plan: p,
          activeJobs: activeJobs.length,
          now: new Date(now),
          createError,
          podConflict,
          serviceError,
          budgetError,
          podGroupError,
          queue: queued?.status,
        },
      );

    let current: ComputeCluster = obj;
    // Said once, by the first write that carries it (acting after the intent may fail).
    let announced = false;
    const announce = (written: ComputeClusterStatus) => {
      if (!announced) this.reportStartupBlocked(obj, written, plan, log);
      announced = true;
    };
    // Written before acting: an operator killed between the two never forgets a replacement.
    const intent = plan.intent && statusOf(obj, this.createFailures.message(key), this.conflicts.message(key));
    if (intent && !statusEqual(intent, obj.status)) {
      current = await writeStatus(this.d.client, CLUSTER_REF, obj, intent);
      announce(intent);
      logCounted(c, plan, log);
    }
    await this.act(key, obj, plan, log);
    // Admitted by Kueue: new pods go where their pod set's flavors say; held while a flavor is unknown.
    const ps = queued?.placements;
    const creates = createsOf(plan.actions).map((a) => (ps ? { pod: placePod(a.pod, ps) } : a));
    const outcome = await this.createPods(key, obj, c, creates, now, log, plan.held || !!queued?.holdCreates);
    // Conflicts are found by creating: while no create is tried, the last ones stand.
    const conflict = outcome.tried
      ? this.reportConflicts(key, obj, c, outcome.conflicts, now)
      : this.conflicts.message(key);

    const status = statusOf(current, outcome.refused, conflict, this.withDeletes(key, plan));
    if (!statusEqual(status, current.status)) await writeStatus(this.d.client, CLUSTER_REF, current, status);
    announce(status);
    const workloadWake = owner && (await this.workloads!.sync(owner, workload, log));
    const due = workloadWake === undefined ? [] : [Math.max(0, workloadWake - Date.now())];
    return { requeueAfterMs: Math.min(this.requeueAfter(key, plan), ...due) };
  }

  /** The cluster is gone or going: what was kept for it goes too (its owned objects go with it: GC). */
  private forget(key: string): void {
    for (const r of [this.createFailures, this.serviceFailures, this.conflicts]) r.clear(key);
    this.budgets.forget(key);
    this.gang.forget(key);
    this.wiring.delete(key);
    this.expectations.forget(key);
  }

  /**
   * With Kueue: the cluster's Workload, and the cluster as Kueue has it (queue.ts): no pods before
   * admission; placed on its flavors and capped at the admitted counts after.
   */
  private queued(key: string, spec: ValidComputeCluster) {
    const owner = this.workloadOwner(key, spec);
    const workload = owner && this.workloads!.of(owner);
    if (!owner || !queueOf(spec)) return { owner, workload };
    // Suspended: planned as it is; it keeps a Queued condition, so that a resume is held to the queue.
    if (spec.spec.suspend) return { owner, workload, queued: suspendedView(spec) };
    // Its templates changed while admitted: its pods stop first, then it is queued again (workloads.ts).
    if (workload && hasQuota(workload) && templatesChanged(workload, clusterPodSets(spec)))
      return { owner, workload, queued: queuedView(spec, TEMPLATES_CHANGED, undefined) };
    const held = !!workload || heldToQueue(spec.status?.conditions, owner.active);
    owner.unqueued = !held;
    const standing = held ? this.workloads!.standing(spec, workload) : runningUnqueued;
    return { owner, workload, queued: queuedView(spec, standing, held ? workload : undefined) };
  }

  /**
   * The cluster as its Kueue Workload sees it (common/workloads.ts), when the integration is on and
   * the cluster is labelled with a queue (or has a Workload to remove). A job's ephemeral cluster
   * never is: its job's Workload asks for its pods.
   */
  private workloadOwner(key: string, c: ValidComputeCluster): WorkloadOwner | undefined {
    if (!this.workloads) return undefined;
    if (c.metadata.ownerReferences?.some((r) => r.controller && r.kind === KINDS.ComputeJob.kind)) return undefined;
    const base = { kind: 'ComputeCluster' as const, obj: c, key };
    if (!queueOf(c) && !this.workloads.of(base)) return undefined;
    return {
      ...base,
      podSets: () => clusterPodSets(c),
      suspended: c.spec.suspend,
      active: this.running(key, c),
    };
  }

  /**
   * Whether pods of the cluster may still run: its own (not drivers, not exited), or creates sent
   * that the cache does not show yet. Kueue's quota is released only once none does.
   */
  private running(key: string, c: ValidComputeCluster): boolean {
    return !!this.expectations.waitingFor(key)?.creates || this.podsOf(key, c).some((p) => !hasExited(p));
  }

  /** The plan for the status written after acting: pods just deleted, still cached, count as gone (a Ready master). */
  private withDeletes(key: string, plan: ClusterPlan): ClusterPlan {
    const deleting = this.expectations.waitingFor(key)?.deleting;
    return deleting ? { ...plan, deleting } : plan;
  }

  /**
   * A Warning event when the written status newly says a pod does not start: Stalled turned True
   * for it, or now names another pod or reason (a changed detail, such as the scheduler's node
   * count or how many more pods wait, is no new event). Called once the status saying so is written.
   */
  private reportStartupBlocked(
    obj: ComputeCluster,
    written: ComputeClusterStatus,
    plan: ClusterPlan,
    log: ReconcileContext['log'],
  ): void {
    const b = plan.startupBlocked;
    const stalled = (s?: ComputeClusterStatus) => s?.conditions?.find((k) => k.type === CONDITIONS.Stalled);
    const now = stalled(written);
    if (!b || plan.stalled || now?.status !== 'True' || now.reason !== b.reason) return;
    const was = stalled(obj.status);
    const samePod = !!was?.message?.startsWith(`pod ${b.pods[0]} `);
    if (was?.status === 'True' && was.reason === now.reason && samePod) return;
    this.d.events.record(obj, 'Warning', CLUSTER_REASONS.PodStartupBlocked, now.message ?? b.message);
    log.warn('a pod did not start', { pods: b.pods, reason: b.reason, message: b.message });
  }

  /** Why the plan's count disagrees with the live pods (confirm.ts), if it does: then nothing is written or sent. */
  private async cacheBehind(c: ValidComputeCluster, plan: ClusterPlan): Promise<string | undefined> {
    for (const check of liveChecks(c, plan)) {
      let live: V1Pod | undefined;
      try {
        live = await this.d.client.getPod(namespaceOf(c), check.name);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      const why = disagreement(check, live);
      if (why) return why;
    }
    return undefined;
  }

  /**
   * The plan from the caches. While creates or deletes sent earlier are not in the cache yet,
   * it plans none (the cache would make it pick a second victim), as ReplicaSets wait for
   * their expectations; otherwise it adopts matching orphans first.
   */
  private async plan(
    key: string,
    c: ValidComputeCluster,
    now: number,
    log: ReconcileContext['log'],
    podGroupError?: string,
  ) {
    const waiting = this.expectations.satisfied(key) ? undefined : this.expectations.waitingFor(key);
    const pods = waiting ? this.podsOf(key, c) : await this.claim(key, c, this.podsOf(key), log);
    const nodes = await this.nodeCheck.lookup(pods, now, (n) => readNodeLive(this.d.client, n, log));
    // Pods of a new revision would join a gang whose PodGroup is not there: the old ones stay.
    const held = podGroupError && c.spec.scheduling?.gang ? "the gang's PodGroup is refused" : undefined;
    const plan = planCluster(c, pods, nodes, now, this.staleWiring(key, c), held);
    return waiting ? holdPodWrites(c, plan, waiting) : plan;
  }

  /** The template-only pods found to lack the wiring of the current revision: outdated, they roll. */
  private staleWiring(key: string, c: ValidComputeCluster): Set<string> {
    const current = new Set([masterRevision(c), ...workerGroups(c).map((g) => workerRevision(c, g))]);
    const read = [...(this.wiring.get(key) ?? [])];
    return new Set(read.filter(([, w]) => !w.current && current.has(w.revision)).map(([uid]) => uid));
  }

  /** The cluster's master and worker pods by label (drivers are the jobs'); with `c`, only those it controls. */
  private podsOf(key: string, c?: ValidComputeCluster): V1Pod[] {
    return this.d.pods
      .byIndex('cluster', key)
      .filter((p) => labelOf(p, LABELS.role) !== 'driver' && (!c || isControlledBy(p, uidOf(c))));
  }

  /** The pods the cluster controls, with the orphans that match adopted first (ReplicaSet's claim). */
  private async claim(
    key: string,
    c: ValidComputeCluster,
    pods: V1Pod[],
    log: ReconcileContext['log'],
  ): Promise<V1Pod[]> {
    const { owned, adopt } = claimPods(c, pods);
    for (const p of adopt) {
      const adopted = await this.adopt(c, p, log);
      if (adopted) owned.push(adopted);
    }
    const read = this.wiring.get(key);
    const present = new Set(owned.map(uidOf));
    for (const uid of read?.keys() ?? []) if (!present.has(uid)) read?.delete(uid);
    return Promise.all(owned.map((p) => this.relabel(key, c, p, log)));
  }

  /**
   * A pod an older operator labelled with a template-only revision, current still, gets the full
   * revision label (a metadata patch: it does not restart), so a later change of the wiring (the
   * master's port) rolls it; but only if its live env has the wiring of the full revision: one
   * that does not keeps its label and counts as outdated (staleWiring). Resolves with the pod as
   * it is now.
   */
  private async relabel(key: string, c: ValidComputeCluster, p: V1Pod, log: ReconcileContext['log']): Promise<V1Pod> {
    const revision = revisionToRelabel(c, p);
    if (!revision || !(await this.wiredAs(key, c, p, revision, log))) return p;
    try {
      const pod = await this.d.client.labelPod(namespaceOf(c), nameOf(p), uidOf(p), { [LABELS.revision]: revision });
      log.info('relabelled pod with the current revision', { pod: nameOf(p), revision });
      this.wiring.get(key)?.delete(uidOf(p)); // template-only no more
      return pod;
    } catch (e) {
      // Gone, or another pod of that name by now: the next reconcile sees what is there.
      if (tolerated(e, [isNotFound, isConflict])) return p;
      throw e;
    }
  }

  /**
   * Whether a template-only pod's live env has the wiring of `revision`: read once per pod and
   * revision (the cache keeps no env). A pod gone or replaced by now is left to the next reconcile.
   */
  private async wiredAs(
    key: string,
    c: ValidComputeCluster,
    p: V1Pod,
    revision: string,
    log: ReconcileContext['log'],
  ): Promise<boolean> {
    const read = this.wiring.get(key) ?? new Map<string, { revision: string; current: boolean }>();
    this.wiring.set(key, read);
    const known = read.get(uidOf(p));
    if (known?.revision === revision) return known.current;
    let live: V1Pod;
    try {
      live = await this.d.client.getPod(namespaceOf(c), nameOf(p));
    } catch (e) {
      if (tolerated(e, [isNotFound])) return false;
      throw e;
    }
    if (uidOf(live) !== uidOf(p)) return false;
    const current = hasCurrentWiring(c, live);
    read.set(uidOf(p), { revision, current });
    if (!current) log.info('pod of a template-only revision has an older wiring; it is outdated', { pod: nameOf(p) });
    return current;
  }

  /** Sets the cluster as the pod's controller, if it is still that pod (uid precondition). */
  private async adopt(c: ValidComputeCluster, p: V1Pod, log: ReconcileContext['log']): Promise<V1Pod | undefined> {
    const owner = controllerRef(c, API_VERSION, KINDS.ComputeCluster.kind);
    const pod = await adoptPod(this.d.client, namespaceOf(c), p, owner);
    if (!pod) return undefined;
    log.info('adopted pod', { pod: nameOf(p) });
    this.d.events.record(c, 'Normal', CLUSTER_REASONS.PodAdopted, `adopted orphan pod ${nameOf(p)}`);
    return pod;
  }

  /** Deletes first (a replacement needs its name back), then the events. */
  private async act(key: string, obj: ComputeCluster, plan: ClusterPlan, log: ReconcileContext['log']): Promise<void> {
    for (const del of deletesOf(plan.actions)) {
      this.expectations.expectDelete(key, del.uid);
      try {
        await this.d.client.deletePod(namespaceOf(obj), del.name, del.uid, del.force ? 0 : undefined);
        log.info('deleted pod', { pod: del.name, reason: del.reason });
      } catch (e) {
        // No watch event will come for a delete that did not happen.
        this.expectations.deleteObserved(key, del.uid);
        if (!tolerated(e, TOLERATES.deletePod)) throw e;
      }
    }
    for (const ev of eventsOf(plan.actions)) this.d.events.record(obj, ev.type, ev.reason, ev.message);
  }

  private requeueAfter(key: string, plan: ClusterPlan): number {
    const due = [
      plan.wakeAt,
      this.createFailures.retryAt(key),
      this.serviceFailures.retryAt(key),
      this.budgets.retryAt(key),
      this.gang.retryAt(key),
      this.conflicts.retryAt(key),
    ]
      .filter((t): t is number => t !== undefined)
      .map((t) => Math.max(0, t - Date.now()) + 50);
    return Math.min(this.d.resyncMs, ...due);
  }

  /**
   * Server-side apply of both Services when what we own differs from the cache. A refusal
   * (quota, admission, validation) does not stop the reconcile: the pods go on, and the server's
   * message is returned for ServicesReady=False. Retried after podRecovery.backoff, or at once
   * when the spec changes.
   */
  private async ensureServices(
    key: string,
    obj: ComputeCluster,
    c: ValidComputeCluster,
    now: number,
    log: ReconcileContext['log'],
  ): Promise<string | undefined> {
    const pending = this.serviceFailures.pending(key, now, c.metadata.generation);
    if (pending) return pending.message;
    const refused: string[] = [];
    for (const desired of [buildMasterService(c), buildWorkersService(c)]) {
      const name = desired.metadata?.name ?? '';
      const existing = this.d.services.get(namespacedKey(namespaceOf(c), name));
      if (existing && serviceMatches(existing, desired)) continue;
      try {
        await this.d.client.applyService(namespaceOf(c), desired);
      } catch (e) {
        if (!isRefused(e)) throw e;
        refused.push(`Service ${name}: ${errorMessage(e)}`);
      }
    }
    return reportRefusals(this.serviceFailures, this.d.events, { key, obj, c, now, log }, refused, {
      log: 'the API server refused a Service',
      reason: CLUSTER_REASONS.ServiceRefused,
    });
  }

  /**
   * Creates pods in doubling batches (1, 2, 4, ...) and stops at the first refusal, so a
   * quota or admission denial costs one request, not hundreds. A name taken by a pod that is
   * not the cluster's is adopted or reported, and the other pods are created all the same.
   */
  private async createPods(
    key: string,
    obj: ComputeCluster,
    c: ValidComputeCluster,
    creates: { pod: V1Pod }[],
    now: number,
    log: ReconcileContext['log'],
    held = false,
  ): Promise<CreateOutcome> {
    const conflicts: PodConflict[] = [];
    if (held) return { refused: this.createFailures.message(key), conflicts, tried: false };
    if (!creates.length) this.createFailures.clear(key);
    if (!creates.length) return { conflicts, tried: true };
    const pending = this.createFailures.pending(key, now);
    if (pending) return { refused: pending.message, conflicts, tried: false };
    for (let i = 0, batch = 1; i < creates.length; i += batch, batch *= 2) {
      const slice = creates.slice(i, i + batch);
      const results = await Promise.allSettled(slice.map((a) => this.createPod(key, c, a.pod, log)));
      for (const r of results) if (r.status === 'fulfilled' && r.value) conflicts.push(r.value);
      const refused = results.find((r) => r.status === 'rejected');
      if (refused?.status !== 'rejected') continue;
      if (!isRefused(refused.reason)) throw refused.reason;
      const message = errorMessage(refused.reason);
      // The backoff counts from the refusal, not from the reconcile's start (a slow reconcile ate into it).
      const { failures } = this.createFailures.record(key, message, Date.now(), c.spec.podRecovery.backoff);
      log.warn('the API server refused a pod', { error: message, failures });
      this.d.events.record(obj, 'Warning', CLUSTER_REASONS.FailedCreate, message);
      return { refused: message, conflicts, tried: true };
    }
    this.createFailures.clear(key);
    return { conflicts, tried: true };
  }

  /** One create, expected until the cache shows it; a name already taken resolves to a conflict or nothing. */
  private async createPod(
    key: string,
    c: ValidComputeCluster,
    pod: V1Pod,
    log: ReconcileContext['log'],
  ): Promise<PodConflict | undefined> {
    this.expectations.expectCreate(key, nameOf(pod));
    try {
      await this.d.client.createPod(namespaceOf(c), pod);
      return undefined;
    } catch (e) {
      this.expectations.createObserved(key, nameOf(pod)); // no watch event will come for it
      if (!tolerated(e, TOLERATES.createPod)) throw e;
      return this.nameTaken(c, nameOf(pod), log);
    }
  }

  /** A pod of that name exists: the cluster's own, an orphan that matches (adopted now), or another's. */
  private nameTaken(
    c: ValidComputeCluster,
    name: string,
    log: ReconcileContext['log'],
  ): Promise<PodConflict | undefined> {
    return claimTakenName(this.d.client, this.d.pods, {
      namespace: namespaceOf(c),
      name,
      ownerUid: uidOf(c),
      whyNot: (p) => whyNotAdoptable(c, p),
      adopt: (p) => this.adopt(c, p, log),
    });
  }

  /**
   * Names held by pods the cluster cannot adopt: a Warning event when they change, retried
   * with the replacement backoff. Returns the message for the ReplicaFailure condition.
   */
  private reportConflicts(
    key: string,
    obj: ComputeCluster,
    c: ValidComputeCluster,
    conflicts: PodConflict[],
    now: number,
  ): string | undefined {
    if (!conflicts.length) return void this.conflicts.clear(key);
    const message = conflictMessage(conflicts);
    if (message !== this.conflicts.message(key))
      this.d.events.record(obj, 'Warning', CLUSTER_REASONS.PodConflict, message);
    this.conflicts.record(key, message, now, c.spec.podRecovery.backoff);
    return message;
  }
}

// The Kueue integration's pure parts: the Workload built from a job (builders/workload.ts), the
// job's standing read from it and the Workload status writes (computejob/queue.ts), and the
// job's decision while queued (phases/queued.ts).
import { expect } from 'chai';
import { validateCluster, validateJob, type ValidComputeJob } from '../../src/api/v1alpha1/index.ts';
import {
  buildWorkload,
  clusterPodSets,
  jobPodSets,
  templatesChanged,
  placeCluster,
  placements,
  placeSpec,
  podSetsMatch,
  priorityClassOf,
  workloadName,
  type ResourceFlavor,
  type Workload,
} from '../../src/builders/workload.ts';
import { buildEphemeralCluster } from '../../src/builders/cluster.ts';
import { decideJob } from '../../src/controllers/computejob/decide.ts';
import {
  finishedStatus,
  heldToQueue,
  queueOfWorkload,
  releasedStatus,
  type Queue,
} from '../../src/controllers/common/queue.ts';
import { placePod, queuedView } from '../../src/controllers/computecluster/queue.ts';
import { NOW, driverPod, node, nodes } from '../fixtures/pods.ts';
import { minimalJob, readyCluster as readyClusterObject } from '../fixtures/specs.ts';

const QUEUE = 'kueue.x-k8s.io/queue-name';
const job = (mut: (j: any) => void = () => {}): ValidComputeJob => {
  const j = minimalJob();
  j.metadata = { name: 'j', namespace: 'ns', uid: 'uid-j', generation: 1, labels: { [QUEUE]: 'team' } };
  mut(j);
  return validateJob(j).value;
};
const cpu = (n: string) => ({ resources: { requests: { cpu: n } } });
/** A job with an ephemeral cluster: 2 default workers, a gpu group of 1 (and an empty one), driver 1 CPU. */
const templated = () =>
  job((x) => {
    delete x.spec.clusterRef;
    const spec = readyClusterObject().spec;
    spec.workers.replicas = 2;
    spec.scheduling = { priorityClassName: 'batch' };
    (spec as any).workerGroups = [
      {
        name: 'gpu',
        replicas: 1,
        template: { spec: { nodeSelector: { pool: 'gpu' }, containers: [{ name: 'w', image: 'i', ...cpu('2') }] } },
      },
      { name: 'idle', replicas: 0, template: { spec: { containers: [{ name: 'w', image: 'i' }] } } },
    ];
    x.spec.clusterTemplate = { spec };
    x.spec.template.spec.containers[0] = {
      ...x.spec.template.spec.containers[0],
      ...cpu('1'),
      env: [{ name: 'A', value: 'b' }],
    };
  });

describe('Workload of a queued job (builders/workload.ts)', () => {
  it('asks quota for the driver only when the job runs on a shared cluster', () => {
    const sets = jobPodSets(job(), undefined);
    expect(sets.map((p) => [p.name, p.count])).to.deep.equal([['driver', 1]]);
  });

  it('has a pod set per role of an ephemeral cluster: master, default workers, each non-empty group, driver', () => {
    const sets = jobPodSets(templated(), undefined);
    expect(sets.map((p) => [p.name, p.count])).to.deep.equal([
      ['master', 1],
      ['worker', 2],
      ['gpu', 1],
      ['driver', 1],
    ]);
    // What Kueue reads, no more: requests, node selection, priority; not the image or env.
    const driver = sets[3]!.template.spec!;
    expect(driver.containers).to.deep.equal([{ name: 'driver', resources: { requests: { cpu: '1' } } }]);
    expect(driver.priorityClassName).to.equal('batch');
    expect(sets[2]!.template.spec!.nodeSelector).to.deep.equal({ pool: 'gpu' });
  });

  const priorities: [string, (j: any) => void, object | undefined][] = [
    ['none', () => {}, undefined],
    [
      "the pods' PriorityClass",
      (j) => (j.spec.template.spec.priorityClassName = 'urgent'),
      { group: 'scheduling.k8s.io', kind: 'PriorityClass', name: 'urgent' },
    ],
    [
      'the WorkloadPriorityClass label, over the pods',
      (j) => {
        j.spec.template.spec.priorityClassName = 'urgent';
        j.metadata.labels['kueue.x-k8s.io/priority-class'] = 'low';
      },
      { group: 'kueue.x-k8s.io', kind: 'WorkloadPriorityClass', name: 'low' },
    ],
  ];
  for (const [name, mut, want] of priorities)
    it(`takes its priority from ${name}`, () => {
      const j = job(mut);
      expect(priorityClassOf(j, jobPodSets(j, undefined))).to.deep.equal(want);
    });

  it('is controlled by the job, named after it and its uid, in its queue', () => {
    const j = job();
    const w = buildWorkload('ComputeJob', j, jobPodSets(j, undefined), { value: 0 });
    expect(w.metadata.name)
      .to.equal(workloadName('ComputeJob', j))
      .and.to.match(/^computejob-j-[0-9a-f]{5}$/);
    expect(w.metadata.ownerReferences?.[0]).to.include({ kind: 'ComputeJob', uid: 'uid-j', controller: true });
    expect(w.metadata.labels).to.include({
      'kueue.x-k8s.io/job-uid': 'uid-j',
      'app.kubernetes.io/managed-by': 'gaffer',
    });
    expect(w.spec).to.include({ queueName: 'team', priority: 0 });
    expect(
      workloadName(
        'ComputeJob',
        job((x) => (x.metadata.uid = 'other')),
      ),
    ).not.to.equal(w.metadata.name);
  });

  const matches: [string, (w: Workload) => void, boolean][] = [
    ['the same pod sets', () => {}, true],
    ['empty lists the server dropped', (w) => (w.spec.podSets[0]!.template.spec!.tolerations = []), true],
    [
      '`resources: {}` a Go client wrote back',
      (w) => (w.spec.podSets[1]!.template.spec!.containers[0]!.resources = {}),
      true,
    ],
    [
      'quantities a Go client canonicalized ("2" for 2000m)',
      (w) => (w.spec.podSets[2]!.template.spec!.containers[0]!.resources = { requests: { cpu: '2000m' } }),
      true,
    ],
    ['another count', (w) => (w.spec.podSets[1]!.count = 3), false],
    [
      'other requests',
      (w) => (w.spec.podSets[0]!.template.spec!.containers[0]!.resources = { requests: { cpu: '9' } }),
      false,
    ],
    ['a pod set fewer', (w) => w.spec.podSets.pop(), false],
  ];
  for (const [name, mut, want] of matches)
    it(`compares pod sets: ${name} ${want ? 'match' : 'differ'}`, () => {
      const j = templated();
      const w = buildWorkload('ComputeJob', j, jobPodSets(j, undefined), { value: 0 });
      mut(w);
      expect(podSetsMatch(w, jobPodSets(j, undefined))).to.equal(want);
    });
});

const flavors: Record<string, ResourceFlavor> = {
  general: { metadata: { name: 'general' }, spec: { nodeLabels: { pool: 'general' } } },
  gpu: {
    metadata: { name: 'gpu' },
    spec: {
      nodeLabels: { pool: 'gpu', zone: 'a' },
      tolerations: [{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }],
    },
  },
};
const flavor = (n: string) => flavors[n];
const cond = (type: string, status: 'True' | 'False', reason = type, message = '') => ({
  type,
  status,
  reason,
  message,
});
const workload = (status: Workload['status']): Workload => ({
  ...buildWorkload('ComputeJob', templated(), jobPodSets(templated(), undefined), { value: 0 }),
  status,
});
const admission: NonNullable<NonNullable<Workload['status']>['admission']> = {
  clusterQueue: 'cq',
  podSetAssignments: [
    { name: 'master', flavors: { cpu: 'general' }, count: 1 },
    { name: 'worker', flavors: { cpu: 'general' }, count: 2 },
    { name: 'gpu', flavors: { cpu: 'gpu', memory: 'gpu' }, count: 1 },
    { name: 'driver', flavors: { cpu: 'general' }, count: 1 },
  ],
};
const admitted = () => workload({ conditions: [cond('QuotaReserved', 'True'), cond('Admitted', 'True')], admission });

describe('placement of admitted pod sets (builders/workload.ts)', () => {
  it("puts each pod set's flavors' node labels and tolerations on it", () => {
    const ps = placements(admitted(), flavor)!;
    expect(ps.get('gpu')).to.deep.equal({
      nodeSelector: { pool: 'gpu', zone: 'a' },
      tolerations: [{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }],
    });
    expect(ps.get('driver')).to.deep.equal({ nodeSelector: { pool: 'general' }, tolerations: [] });
    expect(placements(admitted(), (n) => (n === 'gpu' ? undefined : flavors[n]))).to.equal(undefined);
  });

  it('places the ephemeral cluster per pod set, and keeps what the template had', () => {
    const c = buildEphemeralCluster(templated())!;
    const placed = placeCluster(c, placements(admitted(), flavor)!);
    expect(placed.spec.master.template.spec!.nodeSelector).to.deep.equal({ pool: 'general' });
    expect(placed.spec.workers.template.spec!.nodeSelector).to.deep.equal({ pool: 'general' });
    expect(placed.spec.workerGroups![0]!.template.spec!.nodeSelector).to.deep.equal({ pool: 'gpu', zone: 'a' });
    expect(placed.spec.workerGroups![0]!.template.spec!.tolerations).to.have.length(1);
    expect(c.spec.workers.template.spec!.nodeSelector, 'not mutated').to.equal(undefined);
    expect(placeSpec({ nodeSelector: { a: 'b' } }, { nodeSelector: { pool: 'x' }, tolerations: [] })).to.deep.equal({
      nodeSelector: { a: 'b', pool: 'x' },
      tolerations: [],
    });
  });
});

describe("a queued job's standing (computejob/queue.ts)", () => {
  const cases: [string, Workload | undefined, Partial<Queue> & { admitted: boolean }][] = [
    ['no Workload yet', undefined, { admitted: false, reason: 'Pending' }],
    [
      'not admitted: Kueue says why',
      workload({
        conditions: [
          cond('QuotaReserved', 'False', 'Pending', "couldn't assign flavors to pod set driver: insufficient quota"),
        ],
      }),
      {
        admitted: false,
        reason: 'Pending',
        message: "LocalQueue team: couldn't assign flavors to pod set driver: insufficient quota",
      },
    ],
    ['admitted', admitted(), { admitted: true }],
    [
      'quota reserved, admission checks pending',
      workload({
        conditions: [cond('QuotaReserved', 'True'), cond('Admitted', 'False', 'UnsatisfiedChecks', 'checks')],
        admission,
      }),
      { admitted: false, reason: 'AdmissionChecks', message: 'checks' },
    ],
    [
      'evicted, quota still held',
      workload({
        conditions: [
          cond('QuotaReserved', 'True'),
          cond('Admitted', 'True'),
          cond('Evicted', 'True', 'Preempted', 'to make room'),
        ],
        admission,
      }),
      {
        admitted: false,
        reason: 'Preempted',
        message: 'to make room',
        evicted: { reason: 'Preempted', message: 'to make room' },
      },
    ],
  ];
  for (const [name, w, want] of cases)
    it(name, () => {
      const q = queueOfWorkload(w, 'team', flavor);
      expect(q).to.deep.include(want);
    });

  it('stays admitted with no placement (creates held, nothing deleted) while a flavor of the admission is not seen yet', () => {
    const q = queueOfWorkload(admitted(), 'team', (n) => (n === 'gpu' ? undefined : flavors[n]));
    expect(q).to.deep.include({ admitted: true, placements: undefined });
    expect(q.admitted && q.note).to.deep.equal({
      reason: 'FlavorNotFound',
      message: 'ResourceFlavor gpu not found: new pods wait for it',
    });
  });

  const held: [string, { type: string; reason: string }[] | undefined, boolean, boolean][] = [
    ['a new object, nothing running', undefined, false, true],
    ['labelled while it runs', undefined, true, false],
    ['queued before, running', [{ type: 'Queued', reason: 'Admitted' }], true, true],
    ['running unqueued, still running', [{ type: 'Queued', reason: 'RunningUnqueued' }], true, false],
    ['running unqueued, now stopped', [{ type: 'Queued', reason: 'RunningUnqueued' }], false, true],
  ];
  for (const [name, conds, active, want] of held)
    it(`holds to the queue: ${name} -> ${want}`, () => expect(heldToQueue(conds, active)).to.equal(want));

  it('releases the quota of an evicted Workload: no admission, QuotaReserved and Admitted False, Requeued as Kueue does', () => {
    for (const [reason, requeued] of [
      ['Preempted', 'True'],
      ['InactiveWorkload', 'False'],
    ] as const) {
      const w = workload({
        conditions: [cond('QuotaReserved', 'True'), cond('Admitted', 'True'), cond('Evicted', 'True', reason, 'why')],
        admission,
      });
      const st = releasedStatus(w, NOW)!;
      expect(st.admission).to.equal(undefined);
      const by = Object.fromEntries(st.conditions!.map((c) => [c.type, c]));
      expect(by.QuotaReserved).to.include({ status: 'False', reason: 'Pending', message: 'why' });
      expect(by.Admitted).to.include({ status: 'False', reason: 'NoReservation' });
      expect(by.Requeued).to.include({ status: requeued, reason });
      expect(by.Evicted).to.include({ status: 'True' });
    }
  });

  it("marks a finished job's Workload Finished with its outcome", () => {
    const st = finishedStatus(admitted(), false, 'backoffLimit exceeded', NOW)!;
    expect(st.conditions!.find((c) => c.type === 'Finished')).to.include({
      status: 'True',
      reason: 'Failed',
      message: 'backoffLimit exceeded',
    });
    expect(st.admission).to.deep.equal(admission);
  });
});

describe('decideJob: queued with Kueue (phases/queued.ts)', () => {
  const ready = nodes(node('n1'));
  const cluster = () => validateCluster(readyClusterObject('m1')).value;
  const waiting: Queue = { admitted: false, reason: 'Pending', message: 'LocalQueue team: insufficient quota' };
  const evicted: Queue = { ...waiting, reason: 'Preempted', evicted: { reason: 'Preempted', message: 'to make room' } };
  /** A job admitted and its attempt 0 started. */
  const startedJob = () => {
    const j = job();
    j.status = decideJob(j, cluster(), [], ready, NOW, { queue: { admitted: true, placements: new Map() } }).status;
    return j;
  };

  it("starts nothing before admission: phase Queued, Queued True with Kueue's message, an event", () => {
    const d = decideJob(job(), cluster(), [], ready, NOW, { queue: waiting });
    expect(d.status.phase).to.equal('Queued');
    expect(d.actions.filter((a) => a.kind !== 'event')).to.deep.equal([]);
    const queued = d.status.conditions!.find((c) => c.type === 'Queued');
    expect(queued).to.include({ status: 'True', reason: 'Pending', message: 'LocalQueue team: insufficient quota' });
    expect(d.status.conditions!.find((c) => c.type === 'Ready')).to.include({ reason: 'Queued' });
    expect(d.actions).to.deep.include({ kind: 'event', type: 'Normal', reason: 'Queued', message: waiting.message });
    // The same message again: no second event.
    const j = job();
    j.status = d.status;
    expect(decideJob(j, cluster(), [], ready, NOW + 1000, { queue: waiting }).actions).to.deep.equal([]);
  });

  it('starts the attempt once admitted, its driver placed on the flavor of its pod set', () => {
    const q: Queue = { admitted: true, placements: placements(admitted(), flavor)! };
    const d = decideJob(job(), cluster(), [], ready, NOW, { queue: q });
    expect(d.status.phase).to.equal('Running');
    const create = d.actions.find((a) => a.kind === 'createDriver');
    expect(create?.kind === 'createDriver' && create.pod.spec?.nodeSelector).to.deep.equal({ pool: 'general' });
    expect(d.status.conditions!.find((c) => c.type === 'Queued')).to.include({ status: 'False', reason: 'Admitted' });
  });

  it('ends a running attempt as Preempted, not counted, when Kueue evicts the job; its driver stops', () => {
    const j = startedJob();
    const d = decideJob(j, cluster(), [driverPod(j, 0, { phase: 'Running' })], ready, NOW + 1000, { queue: evicted });
    expect(d.status.phase).to.equal('Queued');
    expect(d.status.attempts![0]).to.include({ reason: 'Preempted', counted: false });
    expect(d.status.failed).to.equal(0);
    expect(d.status.startTime).to.equal(undefined);
    expect(d.actions.filter((a) => a.kind !== 'event').map((a) => a.kind)).to.deep.equal(['deleteDriver']);
  });

  it('has no Queued condition when the job is not queued', () => {
    const d = decideJob(
      job((x) => delete x.metadata.labels),
      cluster(),
      [],
      ready,
      NOW,
    );
    expect(d.status.conditions!.map((c) => c.type)).not.to.include('Queued');
  });

  it('recreates a driver that was never seen placed on its flavor too (a refused or lost create)', () => {
    const admittedQ: Queue = { admitted: true, placements: placements(admitted(), flavor)! };
    const j = job();
    j.status = decideJob(j, cluster(), [], ready, NOW, { queue: admittedQ }).status;
    const again = decideJob(j, cluster(), [], ready, NOW + 1000, { queue: admittedQ });
    const create = again.actions.find((a) => a.kind === 'createDriver');
    expect(create?.kind === 'createDriver' && create.pod.spec?.nodeSelector).to.deep.equal({ pool: 'general' });
  });

  it('keeps a success that came before the eviction: the job Succeeded, not requeued', () => {
    const j = startedJob();
    const d = decideJob(j, cluster(), [driverPod(j, 0, { phase: 'Succeeded', exitCode: 0 })], ready, NOW + 1000, {
      queue: evicted,
    });
    expect(d.status.phase).to.equal('Succeeded');
    expect(d.status.attempts![0]).to.include({ reason: 'Succeeded' });
  });

  it('wakes soon while an evicted job still holds its quota (the last pod going may wake nothing)', () => {
    const releasing: Queue = { ...waiting, releasing: true, evicted: { reason: 'Preempted', message: 'm' } };
    expect(decideJob(job(), cluster(), [], ready, NOW, { queue: releasing }).wakeAt).to.equal(NOW + 2000);
  });

  it('starts nothing while a flavor of its admission is not known: no attempt, no deadline, phase Queued', () => {
    const q: Queue = { admitted: true, placements: undefined, note: { reason: 'FlavorNotFound', message: 'no gpu' } };
    const d = decideJob(job(), cluster(), [], ready, NOW, { queue: q });
    expect(d.actions.filter((a) => a.kind === 'createDriver')).to.deep.equal([]);
    expect(d.status.attemptCount).to.equal(0);
    expect(d.status.phase).to.equal('Queued');
    expect(d.status.conditions!.find((c) => c.type === 'Ready')).to.include({
      reason: 'FlavorNotFound',
      message: 'no gpu',
    });
    expect(d.wakeAt).to.equal(NOW + 5000);
  });
});

describe('a queued ComputeCluster as planned (computecluster/queue.ts)', () => {
  const base = () => {
    const c = readyClusterObject();
    c.metadata.labels = { [QUEUE]: 'team' };
    c.spec.workers.replicas = 3;
    return validateCluster(c).value;
  };
  const wl = (workers: number): Workload => ({
    ...buildWorkload('ComputeCluster', base(), [], { value: 0 }),
    spec: {
      queueName: 'team',
      podSets: [
        { name: 'master', count: 1, template: {} },
        { name: 'worker', count: workers, template: {} },
      ],
    },
  });
  const ps = placements(
    {
      ...wl(3),
      status: { admission: { clusterQueue: 'cq', podSetAssignments: [{ name: 'worker', flavors: { cpu: 'gpu' } }] } },
    },
    flavor,
  )!;

  it('runs nothing before admission: planned suspended, Queued with the reason', () => {
    const v = queuedView(base(), { admitted: false, reason: 'Pending', message: 'no quota' }, undefined);
    expect(v.view.spec.suspend).to.equal(true);
    expect(v.status).to.deep.equal({ waiting: { reason: 'Pending', message: 'no quota' } });
  });

  it('holds a scale past the admitted count at it, on a copy, and says so', () => {
    const c = base();
    const v = queuedView(c, { admitted: true, placements: ps }, wl(2));
    expect(v.view.spec.workers.replicas).to.equal(2);
    expect(c.spec.workers.replicas, 'not mutated').to.equal(3);
    expect(v.status.held![0]).to.match(/^scaled past what Kueue admitted \(worker 3 > 2\)/);
    expect(v.holdCreates).to.equal(false);
    expect(queuedView(c, { admitted: true, placements: ps }, wl(3)).view).to.equal(c);
  });

  it('holds creates while a flavor is unknown, deleting nothing', () => {
    const v = queuedView(
      base(),
      { admitted: true, placements: undefined, note: { reason: 'FlavorNotFound', message: 'm' } },
      wl(3),
    );
    expect(v.view.spec.suspend).to.equal(false);
    expect(v.holdCreates).to.equal(true);
  });

  it("places a new pod on its pod set's flavor: a worker on the worker set's, the master on none here", () => {
    const worker = { metadata: { labels: { 'compute.gaffer.dev/role': 'worker' } }, spec: { containers: [] } };
    const master = { metadata: { labels: { 'compute.gaffer.dev/role': 'master' } }, spec: { containers: [] } };
    expect(placePod(worker, ps).spec!.nodeSelector).to.deep.equal({ pool: 'gpu', zone: 'a' });
    expect(placePod(master, ps).spec!.nodeSelector).to.equal(undefined);
  });

  it('queues a cluster again when an admitted pod set asks for other pods, not for a scale', () => {
    const c = base();
    const admittedWl = buildWorkload('ComputeCluster', c, clusterPodSets(c), { value: 0 });
    expect(templatesChanged(admittedWl, clusterPodSets(c))).to.equal(false);
    const scaled = structuredClone(c);
    scaled.spec.workers.replicas = 5;
    expect(templatesChanged(admittedWl, clusterPodSets(scaled))).to.equal(false);
    const bigger = structuredClone(c);
    bigger.spec.workers.template.spec!.containers[0]!.resources = { requests: { cpu: '8' } };
    expect(templatesChanged(admittedWl, clusterPodSets(bigger))).to.equal(true);
  });

  it('keeps a Queued condition while suspended, so that a resume is held to the queue', () => {
    const j = job((x) => (x.spec.suspend = true));
    const q: Queue = { admitted: false, reason: 'Suspended', message: 'suspended' };
    const d = decideJob(j, validateCluster(readyClusterObject('m1')).value, [], nodes(node('n1')), NOW, { queue: q });
    expect(d.status.phase).to.equal('Suspended');
    const queued = d.status.conditions!.find((c) => c.type === 'Queued')!;
    expect(queued).to.include({ status: 'False', reason: 'Suspended' });
    expect(heldToQueue(d.status.conditions, true)).to.equal(true);
    expect(d.actions).to.deep.equal([]);
  });
});

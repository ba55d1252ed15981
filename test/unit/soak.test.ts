// The soak's pure parts (hack/soak): the fault schedule and the invariant checks over snapshots.
import { expect } from 'chai';
import {
  Convergence,
  CounterCheck,
  MASTER_EFFECT_MS,
  OrphanCheck,
  checkLeaders,
  checkPods,
  clusterView,
  creditsFor,
  hitByNode,
  jobView,
  podView,
  summary,
  type ClusterView,
  type JobView,
  type PodView,
  type Snapshot,
} from '../../hack/soak/invariants.ts';
import {
  DEFAULT_WEIGHTS,
  DURATIONS,
  EXCLUSIVE,
  FAULT_KINDS,
  parseWeights,
  pickOne,
  rng,
  schedule,
  type FaultKind,
} from '../../hack/soak/schedule.ts';

const CLUSTER_UID = 'uid-c';
const JOB_UID = 'uid-j';

function pod(name: string, o: Partial<PodView> & { role?: string; index?: string; job?: string } = {}): PodView {
  const role = o.role ?? (name.includes('master') ? 'master' : 'worker');
  const labels: Record<string, string> = { 'compute.gaffer.dev/cluster': 'c', 'compute.gaffer.dev/role': role };
  if (role === 'worker') labels['compute.gaffer.dev/worker-index'] = o.index ?? name.split('-').pop()!;
  if (role === 'driver') labels['compute.gaffer.dev/job'] = o.job ?? 'j';
  const owner =
    role === 'driver'
      ? { kind: 'ComputeJob', name: 'j', uid: JOB_UID }
      : { kind: 'ComputeCluster', name: 'c', uid: CLUSTER_UID };
  return {
    ns: 'ns',
    name,
    uid: `uid-${name}`,
    labels,
    owner,
    terminating: false,
    phase: 'Running',
    node: 'n1',
    faulted: false,
    disrupted: false,
    ...o,
  };
}

const cluster = (o: Partial<ClusterView> = {}): ClusterView => ({
  ns: 'ns',
  name: 'c',
  uid: CLUSTER_UID,
  terminating: false,
  generation: 1,
  observedGeneration: 1,
  ready: true,
  masterRestarts: 0,
  podsReplaced: 0,
  ...o,
});

const job = (o: Partial<JobView> = {}): JobView => ({
  ns: 'ns',
  name: 'j',
  uid: JOB_UID,
  clusterName: 'c',
  phase: 'Running',
  attemptCount: 1,
  failed: 0,
  created: 1_000_000,
  attempts: '',
  ...o,
});

const snap = (at: number, pods: PodView[], clusters = [cluster()], jobs: JobView[] = []): Snapshot => ({
  at,
  pods,
  clusters,
  jobs,
});

describe('soak: fault schedule', () => {
  it('is the same for the same seed, and different for another', () => {
    const o = { seed: 42, durationMs: 600_000, meanIntervalMs: 8000 };
    expect(schedule(o)).to.deep.equal(schedule(o));
    expect(schedule({ ...o, seed: 43 })).to.not.deep.equal(schedule(o));
  });

  const cases: { name: string; seed: number; minutes: number; mean: number }[] = [
    { name: 'short, frequent', seed: 1, minutes: 2, mean: 3000 },
    { name: '30 minutes at the default rate', seed: 7, minutes: 30, mean: 8000 },
    { name: 'sparse', seed: 99, minutes: 10, mean: 60_000 },
  ];
  for (const c of cases)
    it(`${c.name}: in order, inside the fault phase, durations in range, exclusive kinds never overlap`, () => {
      const durationMs = c.minutes * 60_000;
      const evs = schedule({ seed: c.seed, durationMs, meanIntervalMs: c.mean });
      expect(evs.length).to.be.greaterThan(0);
      let last = 0;
      const busy = new Map<FaultKind, number>();
      for (const e of evs) {
        expect(e.at).to.be.at.least(last + 1000);
        expect(e.at + e.duration).to.be.at.most(durationMs);
        const [lo, hi] = DURATIONS[e.kind];
        if (e.at + hi <= durationMs) expect(e.duration).to.be.within(lo, hi);
        expect(e.pick).to.be.within(0, 1);
        expect(e.level).to.be.within(0, 1);
        if (EXCLUSIVE.has(e.kind)) {
          expect(busy.get(e.kind) ?? 0, `${e.kind} at ${e.at}`).to.be.at.most(e.at);
          busy.set(e.kind, e.at + e.duration + EXCLUSIVE.get(e.kind)!);
        }
        last = e.at;
      }
      // Roughly one fault per mean interval.
      expect(evs.length).to.be.within((durationMs / c.mean) * 0.5, (durationMs / c.mean) * 1.5 + 2);
    });

  it('draws kinds in proportion to their weights, and never a kind of weight 0', () => {
    const evs = schedule({
      seed: 5,
      durationMs: 10 * 3600_000,
      meanIntervalMs: 5000,
      weights: { 'pod-fail': 3, scale: 1, 'operator-kill': 0 },
    });
    const n = (k: FaultKind) => evs.filter((e) => e.kind === k).length;
    expect(n('operator-kill')).to.equal(0);
    expect(n('pod-fail') / n('scale')).to.be.within(2.5, 3.5);
    expect(n('pod-fail') + n('scale')).to.equal(evs.length);
  });

  const weightCases: { spec: string; expect: Partial<Record<FaultKind, number>> | RegExp }[] = [
    { spec: '', expect: DEFAULT_WEIGHTS },
    { spec: 'pod-fail=5,apiserver-restart=0', expect: { ...DEFAULT_WEIGHTS, 'pod-fail': 5, 'apiserver-restart': 0 } },
    {
      spec: 'only:pod-fail,scale=3',
      expect: {
        ...Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])),
        'pod-fail': DEFAULT_WEIGHTS['pod-fail'],
        scale: 3,
      },
    },
    { spec: 'nope=1', expect: /unknown fault kind nope/ },
    { spec: 'scale=-1', expect: /expected scale=/ },
    { spec: 'scale', expect: /expected scale=/ },
  ];
  for (const c of weightCases)
    it(`--faults "${c.spec}"`, () => {
      if (c.expect instanceof RegExp) expect(() => parseWeights(c.spec)).to.throw(c.expect);
      else expect(parseWeights(c.spec)).to.deep.equal(c.expect);
    });

  it('rng is in [0, 1) and pickOne picks by sorted key', () => {
    const r = rng(3);
    for (let i = 0; i < 1000; i++) expect(r()).to.be.within(0, 0.9999999999);
    expect(pickOne(['b', 'a', 'c'], (x) => x, 0)).to.equal('a');
    expect(pickOne(['b', 'a', 'c'], (x) => x, 0.99)).to.equal('c');
    expect(pickOne([], (x: string) => x, 0.5)).to.equal(undefined);
  });
});

describe('soak: invariants', () => {
  const podCases: { name: string; pods: PodView[]; kinds: string[] }[] = [
    {
      name: 'one master, distinct worker indexes',
      pods: [pod('c-master'), pod('c-worker-0'), pod('c-worker-1')],
      kinds: [],
    },
    {
      name: 'two live masters',
      pods: [pod('c-master'), pod('c-master-x', { role: 'master', uid: 'u2' })],
      kinds: ['duplicate-pod'],
    },
    {
      name: 'two live pods for worker 1',
      pods: [pod('c-worker-1'), pod('c-worker-1b', { index: '1', uid: 'u3' })],
      kinds: ['duplicate-pod'],
    },
    {
      name: 'a terminating pod beside its replacement',
      pods: [pod('c-worker-1', { terminating: true, uid: 'old' }), pod('c-worker-1b', { index: '1' })],
      kinds: [],
    },
    {
      name: 'two unfinished drivers of one job',
      pods: [pod('j-driver-0', { role: 'driver' }), pod('j-driver-1', { role: 'driver', phase: 'Pending' })],
      kinds: ['running-drivers'],
    },
    {
      name: 'a failed driver beside the next attempt',
      pods: [pod('j-driver-0', { role: 'driver', phase: 'Failed' }), pod('j-driver-1', { role: 'driver' })],
      kinds: [],
    },
    {
      name: 'drivers of two jobs',
      pods: [pod('j-driver-0', { role: 'driver' }), pod('k-driver-0', { role: 'driver', job: 'k' })],
      kinds: [],
    },
  ];
  for (const c of podCases)
    it(`pods: ${c.name}`, () => {
      expect(checkPods(snap(0, c.pods)).map((v) => v.kind)).to.deep.equal(c.kinds);
    });

  it('orphan-pod only once the owner has been missing for longer than the grace, and once', () => {
    const check = new OrphanCheck(30_000);
    const orphan = pod('c-worker-0', { owner: { kind: 'ComputeCluster', name: 'c', uid: 'gone' } });
    const noOwner = pod('stray', { owner: undefined, role: 'worker', index: '9' });
    const steps: [number, PodView[], string[]][] = [
      [0, [orphan, noOwner, pod('c-master')], []],
      [20_000, [orphan, noOwner], []],
      [31_000, [orphan, noOwner], ['pod ns/c-worker-0', 'pod ns/stray']],
      [40_000, [orphan, noOwner], []],
      // Gone, then back: the clock starts again.
      [50_000, [], []],
      [60_000, [orphan], []],
    ];
    for (const [at, pods, want] of steps)
      expect(check.observe(snap(at, pods)).map((v) => v.object)).to.deep.equal(want);
  });

  it("orphan-pod: a control plane that came back restarts the grace (the garbage collector's graph is rebuilt)", () => {
    const check = new OrphanCheck(30_000);
    const orphan = pod('c-worker-0', { owner: { kind: 'ComputeCluster', name: 'c', uid: 'gone' } });
    expect(check.observe(snap(0, [orphan]))).to.deep.equal([]);
    check.controlPlaneRestarted(20_000);
    expect(check.observe(snap(40_000, [orphan]))).to.deep.equal([]);
    expect(check.observe(snap(50_001, [orphan])).map((v) => v.object)).to.deep.equal(['pod ns/c-worker-0']);
  });

  it('a pod whose owner exists, or that is terminating, is no orphan', () => {
    const check = new OrphanCheck(0);
    const pods = [
      pod('c-master'),
      pod('j-driver-0', { role: 'driver' }),
      pod('x', { owner: undefined, terminating: true }),
    ];
    expect(check.observe(snap(0, pods, [cluster()], [job()]))).to.deep.equal([]);
    expect(check.observe(snap(1000, pods, [cluster()], [job()]))).to.deep.equal([]);
  });

  const creditCases: { name: string; pod: PodView; credits: string[] }[] = [
    { name: 'a worker', pod: pod('c-worker-0'), credits: [`${CLUSTER_UID}/podsReplaced`] },
    {
      name: 'the master',
      pod: pod('c-master'),
      credits: [`${CLUSTER_UID}/podsReplaced`, `${CLUSTER_UID}/masterRestarts`],
    },
    { name: 'a driver', pod: pod('j-driver-0', { role: 'driver' }), credits: [`${JOB_UID}/attemptCount`] },
    { name: 'a pod with no owner', pod: pod('x', { owner: undefined }), credits: [] },
  ];
  for (const c of creditCases)
    it(`credits for ${c.name}`, () => {
      expect(creditsFor(c.pod).map((x) => `${x.uid}/${x.counter}`)).to.deep.equal(c.credits);
    });

  describe('which pods a node fault hit', () => {
    const T = Date.parse('2026-11-27T01:44:54Z');
    const cases: { name: string; created?: number; readySince?: number; hit: boolean }[] = [
      { name: 'the node is down now: every pod on it', created: T + 60_000, readySince: undefined, hit: true },
      { name: 'Ready again: a pod placed before', created: T - 1000, readySince: T, hit: true },
      // Seen in the soak: a replacement master placed a second after its node came back.
      { name: 'Ready again: a pod placed after is not', created: T + 1000, readySince: T, hit: false },
      { name: 'Ready again: a pod of unknown age is', created: undefined, readySince: T, hit: true },
    ];
    for (const t of cases) it(t.name, () => expect(hitByNode({ created: t.created }, t.readySince)).to.equal(t.hit));
    it('reads creationTimestamp into the pod view', () => {
      const p = podView({
        metadata: { name: 'p', namespace: 'n', uid: 'u', creationTimestamp: '2026-11-27T01:44:54Z' },
      });
      expect(p.created).to.equal(T);
    });
  });

  describe('counters', () => {
    const run = (
      steps: { at: number; hit?: PodView; clusters?: Partial<ClusterView>[]; jobs?: Partial<JobView>[] }[],
    ): string[] => {
      const check = new CounterCheck();
      const out: string[] = [];
      for (const s of steps) {
        if (s.hit) check.disrupted(s.hit, s.at);
        const v = check.observe(snap(s.at, [], (s.clusters ?? []).map(cluster), (s.jobs ?? []).map(job)));
        out.push(...v.map((x) => `${x.kind} ${x.detail.split(';')[0]}`));
      }
      return out;
    };
    const cases: { name: string; steps: Parameters<typeof run>[0]; want: string[] }[] = [
      {
        name: 'quiet: nothing moves',
        steps: [
          { at: 0, clusters: [{}], jobs: [{}] },
          { at: 1, clusters: [{}], jobs: [{}] },
        ],
        want: [],
      },
      {
        name: 'a worker hit, replaced once',
        steps: [
          { at: 0, clusters: [{}] },
          { at: 1, hit: pod('c-worker-0'), clusters: [{}] },
          { at: 2, clusters: [{ podsReplaced: 1 }] },
        ],
        want: [],
      },
      {
        name: 'a worker hit, counted twice (an operator restart repeating it)',
        steps: [
          { at: 1, hit: pod('c-worker-0'), clusters: [{}] },
          { at: 2, clusters: [{ podsReplaced: 2 }] },
          { at: 3, clusters: [{ podsReplaced: 2 }] },
        ],
        want: ['counter-jump status.recovery.podsReplaced is 2, the faults explain at most 1'],
      },
      {
        name: 'the same pod hit twice (failed, and on a NotReady node) explains one replacement',
        steps: [
          { at: 1, hit: pod('c-worker-0'), clusters: [{}] },
          { at: 2, hit: pod('c-worker-0'), clusters: [{ podsReplaced: 2 }] },
        ],
        want: ['counter-jump status.recovery.podsReplaced is 2, the faults explain at most 1'],
      },
      {
        name: 'a replacement with no fault',
        steps: [{ at: 0, clusters: [{ podsReplaced: 1 }] }],
        want: ['counter-jump status.recovery.podsReplaced is 1, the faults explain at most 0'],
      },
      {
        name: 'a master restart from a worker hit',
        steps: [{ at: 1, hit: pod('c-worker-0'), clusters: [{ podsReplaced: 1, masterRestarts: 1 }] }],
        want: ['counter-jump status.master.restarts is 1, the faults explain at most 0'],
      },
      {
        name: 'a counter going down',
        steps: [
          { at: 0, hit: pod('c-master'), clusters: [{}] },
          { at: 1, clusters: [{ podsReplaced: 1, masterRestarts: 1 }] },
          { at: 2, clusters: [{ podsReplaced: 1, masterRestarts: 0 }] },
        ],
        want: ['counter-decrease masterRestarts 1 -> 0'],
      },
      {
        name: 'a recreated object of the same name starts again (another uid)',
        steps: [
          { at: 0, hit: pod('c-master'), clusters: [{}] },
          { at: 1, clusters: [{ podsReplaced: 1, masterRestarts: 1 }] },
          { at: 2, clusters: [{ uid: 'other' }] },
        ],
        want: [],
      },
      {
        name: 'a job: first attempt, then one per driver hit',
        steps: [
          { at: 0, jobs: [{ attemptCount: 1 }] },
          { at: 1, hit: pod('j-driver-0', { role: 'driver' }), jobs: [{ attemptCount: 1 }] },
          { at: 2, jobs: [{ attemptCount: 2, failed: 1 }] },
        ],
        want: [],
      },
      {
        name: 'a job: a second attempt with no fault (a master seen as changed that did not)',
        steps: [
          { at: 0, jobs: [{ attemptCount: 1 }] },
          { at: 1, jobs: [{ attemptCount: 2 }] },
        ],
        want: ['counter-jump status.attemptCount is 2, the faults explain at most 1'],
      },
      {
        name: "a job: its cluster's master hit while it runs",
        steps: [
          { at: 1_000_000, jobs: [{}] },
          { at: 1_000_001, hit: pod('c-master'), jobs: [{ attemptCount: 2 }] },
        ],
        want: [],
      },
      {
        name: "a job created just after its cluster's master was hit",
        steps: [
          { at: 1_000_000 - MASTER_EFFECT_MS + 1, hit: pod('c-master') },
          { at: 1_000_001, jobs: [{ attemptCount: 2 }] },
        ],
        want: [],
      },
      {
        name: "a job created long after its cluster's master was hit",
        steps: [
          { at: 1_000_000 - MASTER_EFFECT_MS - 1, hit: pod('c-master') },
          { at: 1_000_001, jobs: [{ attemptCount: 2 }] },
        ],
        want: ['counter-jump status.attemptCount is 2, the faults explain at most 1'],
      },
      {
        name: 'the same master hit long before the job (not dying then) and again while it runs',
        steps: [
          { at: 1_000_000 - MASTER_EFFECT_MS - 1, hit: pod('c-master') },
          { at: 1_000_000, jobs: [{}] },
          { at: 1_000_001, hit: pod('c-master'), jobs: [{ attemptCount: 2 }] },
        ],
        want: [],
      },
      {
        name: 'the same master seen hit in snapshot after snapshot explains one attempt',
        steps: [
          { at: 1_000_000, jobs: [{}] },
          { at: 1_000_001, hit: pod('c-master') },
          { at: 1_002_001, hit: pod('c-master') },
          { at: 1_004_001, hit: pod('c-master'), jobs: [{ attemptCount: 3 }] },
        ],
        want: ['counter-jump status.attemptCount is 3, the faults explain at most 2'],
      },
      {
        name: 'a master hit of another cluster does not explain it',
        steps: [
          { at: 1_000_000, jobs: [{ clusterName: 'other' }] },
          { at: 1_000_001, hit: pod('c-master'), jobs: [{ clusterName: 'other', attemptCount: 2 }] },
        ],
        want: ['counter-jump status.attemptCount is 2, the faults explain at most 1'],
      },
      {
        name: 'more counted failures than attempts',
        steps: [{ at: 0, jobs: [{ attemptCount: 1, failed: 2 }] }],
        want: ['counter-jump status.failed is 2, the faults explain at most 1'],
      },
      {
        name: 'reported again only when the excess grows',
        steps: [
          { at: 0, clusters: [{ podsReplaced: 1 }] },
          { at: 1, clusters: [{ podsReplaced: 1 }] },
          { at: 2, hit: pod('c-worker-0'), clusters: [{ podsReplaced: 2 }] },
          { at: 3, clusters: [{ podsReplaced: 3 }] },
        ],
        want: [
          'counter-jump status.recovery.podsReplaced is 1, the faults explain at most 0',
          'counter-jump status.recovery.podsReplaced is 3, the faults explain at most 1',
        ],
      },
    ];
    for (const c of cases) it(c.name, () => expect(run(c.steps)).to.deep.equal(c.want));
  });

  const leaderCases: { leads: boolean[]; n: number }[] = [
    { leads: [false, false], n: 0 },
    { leads: [true, false], n: 0 },
    { leads: [true, true], n: 1 },
  ];
  for (const c of leaderCases)
    it(`leaders ${JSON.stringify(c.leads)}: ${c.n} violation(s)`, () => {
      expect(
        checkLeaders(
          0,
          c.leads.map((leads, i) => ({ name: `r${i}`, leads })),
        ),
      ).to.have.length(c.n);
    });

  it('convergence: the time each object became done and stayed so; converged when all are', () => {
    const conv = new Convergence(10_000);
    const steps: [number, Partial<ClusterView>, Partial<JobView>, boolean][] = [
      [10_000, { ready: true }, { phase: 'Running' }, false],
      [12_000, { ready: false }, { phase: 'Succeeded' }, false],
      [15_000, { ready: true }, { phase: 'Succeeded' }, true],
      [16_000, { ready: true }, { phase: 'Succeeded' }, true],
    ];
    for (const [at, c, j, all] of steps) expect(conv.observe(snap(at, [], [cluster(c)], [job(j)]))).to.equal(all);
    expect(conv.convergedAt).to.equal(15_000);
    expect(conv.seconds('computecluster')).to.deep.equal([5]);
    expect(conv.seconds('computejob')).to.deep.equal([2]);
    expect(conv.pending()).to.deep.equal([]);
  });

  it("convergence ignores a job's ephemeral cluster and clusters being deleted", () => {
    const conv = new Convergence(0);
    const s = snap(
      0,
      [],
      [
        cluster(),
        cluster({ name: 'j', uid: 'e', ownerJob: JOB_UID, ready: false }),
        cluster({ name: 'd', uid: 'd', terminating: true, ready: false }),
      ],
      [job({ phase: 'Failed' })],
    );
    expect(conv.observe(s)).to.equal(true);
  });

  it('views read the fields the checks use from raw objects', () => {
    const p = podView({
      metadata: {
        namespace: 'ns',
        name: 'c-worker-0',
        uid: 'u',
        labels: { a: 'b' },
        annotations: { 'sim.gaffer.dev/crash-loop': 'true' },
        ownerReferences: [
          { kind: 'Other', name: 'o', uid: 'o1' },
          { kind: 'ComputeCluster', name: 'c', uid: 'c1', controller: true },
        ],
        deletionTimestamp: '2026-01-01T00:00:00Z',
      },
      spec: { nodeName: 'n' },
      status: {
        phase: 'Running',
        conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager' }],
      },
    });
    expect(p).to.deep.include({
      owner: { kind: 'ComputeCluster', name: 'c', uid: 'c1' },
      terminating: true,
      faulted: true,
      disrupted: true,
      node: 'n',
    });
    const c = clusterView({
      metadata: { namespace: 'ns', name: 'c', uid: 'c1', generation: 2 },
      status: {
        master: { restarts: 3 },
        recovery: { podsReplaced: 5 },
        conditions: [{ type: 'Ready', status: 'True', observedGeneration: 1 }],
      },
    });
    expect(c).to.deep.include({ masterRestarts: 3, podsReplaced: 5, ready: false });
    const j = jobView({
      metadata: { namespace: 'ns', name: 'j', uid: 'j1', creationTimestamp: '2026-01-01T00:00:00Z' },
      spec: { clusterTemplate: {} },
      status: { attemptCount: 2, failed: 1, attempts: [{ index: 0, reason: 'Error' }, { index: 1 }] },
    });
    expect(j).to.deep.include({ clusterName: 'j', attemptCount: 2, failed: 1, attempts: '0: Error; 1: running' });
  });

  it('summary: p50 and max', () => {
    expect(summary([])).to.deep.equal({ n: 0, p50: 0, max: 0 });
    expect(summary([3, 1, 2])).to.deep.equal({ n: 3, p50: 2, max: 3 });
    expect(summary([1.04, 9.96])).to.deep.equal({ n: 2, p50: 1, max: 10 });
  });
});

// npm run bench: Gaffer's scale benchmark on the local control plane (GAFFER_CLUSTER_DIR; started
// if none is up). Every run measures, on the same control plane, Gaffer (the compiled operator)
// beside two anchors: a raw client creating the same pods with no client-side limit (32
// concurrent requests) and kube-controller-manager (ReplicaSets; batch/v1 Jobs for the job storm).
// See README.md, "Benchmark", and --help.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Api, authFromKubeconfig } from './bench/api.ts';
import {
  createNamespace,
  deleteBenchNodes,
  deleteNamespace,
  ensureNodes,
  probeAccount,
  raiseLimits,
  warmUp,
} from './bench/control-plane.ts';
import { MemoryCgroup, chartMemoryLimit, quantityBytes } from './bench/cgroup.ts';
import { build } from './bench/operator.ts';
import {
  SYSTEMS,
  percentiles,
  probe,
  runJobs,
  runMemoryCurve,
  runScale,
  type Env,
  type ScenarioResult,
  type System,
} from './bench/scenarios.ts';
import { barChart, lineChart } from './bench/svg.ts';
import { CLUSTER_DIR, KUBECONFIG, ROOT } from './kubectl.ts';
import { OPERATOR_KUBECONFIG, ensureCluster } from './local-cluster.ts';

const HELP = `Usage: npm run bench -- [flags]
  --clusters N          scale scenario: N clusters (default 10)
  --workers M           workers per cluster (default 100); 0 skips the scale scenario
  --no-churn            skip the churn scenario (10% of all workers fail at once)
  --jobs J              job storm: J jobs (default 1000; 0 skips it)
  --job-clusters C      ... spread over C clusters of one worker (default 10)
  --job-duration D      each driver runs D (default 2s)
  --systems LIST        of raw,replicaset,gaffer (default all three)
  --steady-seconds S    Gaffer's steady-state window after convergence (default 300; 0 skips)
  --memory-curve        only the memory curve: Gaffer's RSS/heap as cached pods grow
  --curve-steps LIST    pod counts (default 1000,2000,...,10000) over --clusters clusters
  --json FILE           write the results as JSON
  --out DIR             SVG charts (default .tmp/bench)
  --timeout S           per wait (default 1200)
  --no-build            use dist/ as it is (default: npm run build first)
  --keep-nodes          leave the added KWOK nodes
  --operator-args=ARGS  extra operator flags, e.g. --operator-args="--kube-api-qps=200 --kube-api-burst=400"
  --cpu-prof DIR        write a V8 CPU profile of each operator run into DIR (open it in Chrome DevTools)
  --memory-limit Q      run the operator in a memory cgroup of Q, as its Pod (default: the chart's
                        resources.limits.memory; 0: no limit). Node sizes its heap from it.
  --heap-snapshot DIR   memory curve: a V8 heap snapshot and /proc/PID/smaps of the operator at each step, into DIR
                        (for diagnosis: each snapshot's own memory shows in the later steps' peak RSS)
  GAFFER_BENCH_NODE_OPTIONS  Node flags for the operator alone, e.g. --max-old-space-size=256
Cluster: GAFFER_CLUSTER_DIR, GAFFER_PORT_OFFSET as for hack/cluster-up.sh.`;

const { values: f } = parseArgs({
  options: {
    clusters: { type: 'string', default: '10' },
    workers: { type: 'string', default: '100' },
    'no-churn': { type: 'boolean', default: false },
    jobs: { type: 'string', default: '1000' },
    'job-clusters': { type: 'string', default: '10' },
    'job-duration': { type: 'string', default: '2s' },
    systems: { type: 'string', default: SYSTEMS.join(',') },
    'steady-seconds': { type: 'string', default: '300' },
    'memory-curve': { type: 'boolean', default: false },
    'curve-steps': { type: 'string', default: Array.from({ length: 10 }, (_, i) => (i + 1) * 1000).join(',') },
    json: { type: 'string' },
    out: { type: 'string', default: join(ROOT, '.tmp/bench') },
    timeout: { type: 'string', default: '1200' },
    'no-build': { type: 'boolean', default: false },
    'keep-nodes': { type: 'boolean', default: false },
    'operator-args': { type: 'string', default: '' },
    'cpu-prof': { type: 'string' },
    'heap-snapshot': { type: 'string' },
    'memory-limit': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (f.help) {
  console.log(HELP);
  process.exit(0);
}
const num = (name: string, v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name}: expected a whole number, got ${v}`);
  return n;
};
const clusters = num('clusters', f.clusters);
const workers = num('workers', f.workers);
const jobs = num('jobs', f.jobs);
const jobClusters = Math.max(1, num('job-clusters', f['job-clusters']));
const steadySeconds = num('steady-seconds', f['steady-seconds']);
const systems = f.systems.split(',').filter(Boolean) as System[];
for (const s of systems) if (!SYSTEMS.includes(s)) throw new Error(`--systems: unknown ${s}`);
const curveSteps = f['curve-steps'].split(',').map((s) => num('curve-steps', s));
const log = (s: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}`);

log(`control plane: ${CLUSTER_DIR}`);
await ensureCluster();
const admin = authFromKubeconfig(KUBECONFIG);
const api = new Api(admin, 8);
if (!f['no-build']) {
  log('npm run build (the operator is measured compiled, as the image runs it)');
  build();
}
const maxPods = f['memory-curve']
  ? Math.max(...curveSteps) + clusters
  : Math.max(clusters * (workers + 1), jobs + jobClusters * 2);
const nodes = await ensureNodes(api, maxPods);
const offset = Number(process.env.GAFFER_PORT_OFFSET ?? 0);
const scenarioBase = {
  controlPlane: {
    nodes: nodes.total,
    nodesAdded: nodes.added,
    podsPerNode: 110,
    rawClient: '32 concurrent requests, no client-side limit, as the operator ServiceAccount (same APF priority level)',
  } as Record<string, unknown>,
};
log(`${nodes.total} KWOK nodes (${nodes.added} added, 110 pods each)`);
const limits = raiseLimits();
log(limits.scheduler);
log(limits.kwok);
scenarioBase.controlPlane.scheduler = limits.scheduler;
scenarioBase.controlPlane.kwok = limits.kwok;
scenarioBase.controlPlane.kubeControllerManager = 'default client limits (qps 20, burst 30 per controller)';
const memoryLimit = f['memory-limit'] ?? chartMemoryLimit();
const cgroup =
  memoryLimit === '0' ? undefined : new MemoryCgroup(`gaffer-bench-${process.pid}`, quantityBytes(memoryLimit));
if (cgroup) log(`operator runs in a memory cgroup of ${memoryLimit} (the chart's limit): ${cgroup.dir}`);
// On every way out (the end, an error, a signal): no operator left running, no cgroup left.
process.on('exit', () => cgroup?.release());
const onSignal = () => {
  limits.restore();
  process.exit(130);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const probeNs = await createNamespace(api, `bench-probe-${process.pid}`);
const env: Env = {
  admin,
  operatorKubeconfig: OPERATOR_KUBECONFIG,
  operatorAuth: authFromKubeconfig(OPERATOR_KUBECONFIG),
  probeAuth: authFromKubeconfig(await probeAccount(probeNs)),
  ports: { health: 18181 + offset, metrics: 18180 + offset },
  operator: {
    cgroup,
    memoryLimit: cgroup ? memoryLimit : undefined,
    args: f['operator-args'].split(/\s+/).filter(Boolean),
    nodeOptions: [
      process.env.GAFFER_BENCH_NODE_OPTIONS ?? '',
      f['cpu-prof'] ? `--cpu-prof --cpu-prof-dir=${resolve(f['cpu-prof'])}` : '',
      f['heap-snapshot'] ? `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${resolve(f['heap-snapshot'])}` : '',
    ]
      .join(' ')
      .trim(),
  },
  timeoutMs: num('timeout', f.timeout) * 1000,
  log,
};

if (env.operator.args.length || env.operator.nodeOptions)
  log(
    `operator flags: ${env.operator.args.join(' ') || '(defaults)'}; NODE_OPTIONS: ${env.operator.nodeOptions || '(none)'}`,
  );
scenarioBase.controlPlane.operator = { ...env.operator, cgroup: undefined };
const results: ScenarioResult[] = [];
let steady: Record<string, unknown> | undefined;
let idle: ReturnType<typeof percentiles> | undefined;
let curve: Awaited<ReturnType<typeof runMemoryCurve>> | undefined;
try {
  log(`warm-up pod Running after ${(await warmUp(api, probeNs)).toFixed(1)}s`);
  if (f['memory-curve']) {
    log(`memory curve: ${curveSteps.join(', ')} pods over ${clusters} ComputeClusters`);
    if (f['heap-snapshot']) mkdirSync(f['heap-snapshot'], { recursive: true });
    curve = await runMemoryCurve(env, {
      clusters,
      steps: curveSteps,
      heapSnapshots: f['heap-snapshot'] && resolve(f['heap-snapshot']),
    });
  } else {
    idle = await probe(env.probeAuth!, probeNs, 200).finished();
    log(`probe GET idle: p50 ${idle.p50} ms, p99 ${idle.p99} ms`);
    if (workers > 0) {
      const scale: ScenarioResult = {
        scenario: {
          name: 'scale',
          clusters,
          workers,
          pods: clusters * (workers + 1),
          probeIdleGetMs: idle,
          ...scenarioBase,
        },
        systems: {},
      };
      const churn: ScenarioResult = {
        scenario: { name: 'churn', clusters, workers, failFraction: 0.1, ...scenarioBase },
        systems: {},
      };
      for (const s of systems) {
        log(`scale: ${s}, ${clusters} x ${workers} workers`);
        try {
          const r = await runScale(env, s, { clusters, workers, churn: !f['no-churn'], steadySeconds, probeNs });
          scale.systems[s] = r.scale;
          if (r.churn) churn.systems[s] = r.churn;
          if (r.steady) steady = r.steady;
          log(`${s}: ${JSON.stringify({ ...r.scale, apiRequestsByResource: undefined })}`);
          if (r.churn) log(`${s} churn: ${JSON.stringify({ ...r.churn, apiRequestsByResource: undefined })}`);
        } catch (e) {
          scale.systems[s] = { error: String(e) };
          log(`scale: ${s} failed: ${String(e)}`);
        }
      }
      results.push(scale);
      if (!f['no-churn']) results.push(churn);
    }
    if (jobs > 0) {
      const storm: ScenarioResult = {
        scenario: { name: 'jobs', jobs, clusters: jobClusters, jobDuration: f['job-duration'], ...scenarioBase },
        systems: {},
      };
      for (const s of systems) {
        log(`job storm: ${s}, ${jobs} jobs`);
        try {
          storm.systems[s] = await runJobs(env, s, { jobs, jobClusters, completeAfter: f['job-duration'] });
          log(`${s}: ${JSON.stringify({ ...storm.systems[s], apiRequestsByResource: undefined })}`);
        } catch (e) {
          storm.systems[s] = { error: String(e) };
          log(`job storm: ${s} failed: ${String(e)}`);
        }
      }
      results.push(storm);
    }
  }
} finally {
  log('restoring kube-scheduler and kwok');
  limits.restore();
  await deleteNamespace(api, probeNs).catch(() => {});
  if (!f['keep-nodes']) await deleteBenchNodes(api);
  if (cgroup?.oomKills()) log(`the operator was OOM-killed ${cgroup.oomKills()} time(s) at ${memoryLimit}`);
}

// ---- output ----
const fmt = (v: unknown) => {
  if (v === undefined) return '-';
  return typeof v === 'number' ? String(v) : JSON.stringify(v);
};
const reqs = (r: Record<string, number> | undefined) =>
  r
    ? Object.entries(r)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')
    : '-';
for (const r of results) {
  const s = r.scenario;
  console.log(
    `\n== ${s.name}: ${JSON.stringify(Object.fromEntries(Object.entries(s).filter(([k]) => k !== 'controlPlane' && k !== 'name')))}`,
  );
  const rows: string[][] = [
    [
      'system',
      'created s',
      'running s',
      'ready s',
      'pods/s',
      'req/pod (own or operator)',
      'kcm req/pod',
      'status w/obj',
      'peak RSS MiB',
      'heap MiB',
      'CPU s',
      'probe p50/p99 ms',
    ],
  ];
  for (const sys of SYSTEMS) {
    const x = r.systems[sys];
    if (!x) continue;
    rows.push([
      sys,
      fmt(x.createdSeconds),
      fmt(x.runningSeconds),
      fmt(x.readySeconds ?? x.succeededSeconds),
      fmt(x.podsPerSecond),
      reqs(x.apiRequestsPerPod ?? x.apiRequests),
      reqs(x.kcmRequestsPerPod as Record<string, number> | undefined),
      fmt(x.statusWritesPerObject),
      fmt(x.peakRssMiB),
      fmt(x.heapUsedMiB),
      fmt(x.cpuSeconds),
      x.probeGetMs ? `${x.probeGetMs.p50}/${x.probeGetMs.p99}` : '-',
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  for (const row of rows) console.log(row.map((c, i) => c.padEnd(widths[i]!)).join('  '));
}
if (results.length) {
  const cp = results[0]!.scenario.controlPlane as Record<string, unknown>;
  console.log(`\ncontrol plane: ${cp.nodes} KWOK nodes; ${cp.scheduler}; ${cp.kwok}; raw client: ${cp.rawClient}`);
}
if (idle) console.log(`probe GET idle: p50 ${idle.p50} ms, p99 ${idle.p99} ms (n=${idle.n})`);
if (steady)
  console.log(
    `gaffer steady state over ${steady.seconds}s: ${steady.lists} LIST, ${steady.writes} writes (all: ${reqs(steady.requests as Record<string, number>)}), CPU ${steady.cpuSeconds}s, RSS ${steady.rssMiB} MiB`,
  );
if (curve) {
  console.log('\npods    RSS MiB  peak RSS MiB  heap used MiB  seconds to Ready');
  for (const p of curve)
    console.log(
      `${String(p.pods).padEnd(8)}${String(p.rssMiB).padEnd(9)}${String(p.peakRssMiB).padEnd(14)}${String(p.heapUsedMiB).padEnd(15)}${p.seconds}`,
    );
}

mkdirSync(f.out, { recursive: true });
if (results.length) {
  const file = join(f.out, 'time-to-ready.svg');
  writeFileSync(
    file,
    barChart(
      'Time to Ready (raw: all pods Running)',
      'seconds',
      results.map((r) => String(r.scenario.name)),
      systems.map((s) => ({
        name: s,
        values: results.map((r) => {
          const x = r.systems[s];
          return (x?.readySeconds ?? x?.succeededSeconds ?? x?.runningSeconds) as number | undefined;
        }),
      })),
    ),
  );
  log(`chart: ${file}`);
}
if (curve) {
  const file = join(f.out, 'memory-curve.svg');
  writeFileSync(
    file,
    lineChart('Gaffer operator memory against cached pods', 'pods', 'MiB', [
      { name: 'RSS', points: curve.map((p) => [p.pods, p.rssMiB]) },
      { name: 'heap used', points: curve.map((p) => [p.pods, p.heapUsedMiB]) },
    ]),
  );
  log(`chart: ${file}`);
}
if (f.json) {
  writeFileSync(f.json, JSON.stringify({ results, steady, probeIdleGetMs: idle, memoryCurve: curve }, null, 2));
  log(`JSON: ${f.json}`);
}
api.agent.destroy();
process.exit(0);

// npm run demo: the local control plane, Gaffer's CRDs and operator, and examples/quickstart,
// narrated as it happens. Leaves everything running.
import { spawn } from 'node:child_process';
import { appendFileSync, openSync, readFileSync } from 'node:fs';
import { CLUSTER_DIR, KUBECONFIG, ROOT } from './kubectl.ts';
import { OPERATOR_KUBECONFIG, ensureCluster, k, kjson, kubectl, waitFor } from './local-cluster.ts';

const ns = 'demo'; // the demo operator watches only this namespace, so tests can share the cluster
const say = (s: string) => console.log(`[demo] ${s}`);
const t0 = Date.now();
const clock = () => `${((Date.now() - t0) / 1000).toFixed(0).padStart(3)}s`;
const step = (s: string) => console.log(`\n[demo ${clock()}] ${s}`);
const cond = (o: any, type: string) => o?.status?.conditions?.find((c: any) => c.type === type);

step("installing the CRDs and the chart's ServiceAccount and RBAC");
await ensureCluster();

step('starting the Gaffer operator (log: .cluster/logs/operator.log)');
const pidsFile = `${CLUSTER_DIR}/run/pids`;
const running = readFileSync(pidsFile, 'utf8')
  .split('\n')
  .find((l) => l.startsWith('operator '));
const alive =
  running &&
  (() => {
    try {
      process.kill(Number(running.split(' ')[1]), 0);
      return true;
    } catch {
      return false;
    }
  })();
if (alive) {
  say(`operator already running (pid ${running!.split(' ')[1]})`);
} else {
  const log = openSync(`${CLUSTER_DIR}/logs/operator.log`, 'a');
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      `${ROOT}src/main.ts`,
      '--kubeconfig',
      OPERATOR_KUBECONFIG,
      '--bind-address',
      '127.0.0.1',
      '--health-port',
      '18081',
      '--metrics-port',
      '18080',
      '--leader-election-namespace',
      'gaffer-system',
      '--namespaces',
      'demo',
    ],
    { cwd: ROOT, detached: true, stdio: ['ignore', log, log] },
  );
  child.unref();
  appendFileSync(pidsFile, `operator ${child.pid}\n`); // npm run cluster:down stops it too
  await waitFor(
    'operator ready',
    async () => (await fetch('http://127.0.0.1:18081/readyz').catch(() => undefined))?.status === 200,
    60_000,
  );
  say(`operator is up (pid ${child.pid}), ready and leading; metrics on http://127.0.0.1:18080/metrics`);
}

await kubectl(['create', 'namespace', ns]);
// A second run starts from scratch: the quickstart of the last one goes first.
if ((await kjson(['get', '-n', ns, 'cc,cjob'])).items.length) {
  say("removing the previous run's quickstart");
  await k(['delete', '-n', ns, 'cc,cjob', '--all', '--wait=true', '--timeout=60s']);
  await waitFor(
    'old pods gone',
    async () =>
      (await kjson(['get', 'pods', '-n', ns, '-l', 'app.kubernetes.io/managed-by=gaffer'])).items.length === 0,
    60_000,
  );
}
step('applying examples/quickstart: a ComputeCluster with 3 workers and a ComputeJob on it');
await k(['apply', '-n', ns, '--server-side', '--force-conflicts', '-f', `${ROOT}examples/quickstart/`]);

let last = '';
const watchCluster = async (until: (c: any) => boolean, what: string) =>
  waitFor(
    what,
    async () => {
      const c = await kjson(['get', '-n', ns, 'cc', 'quickstart']).catch(() => undefined);
      const line = c?.status
        ? `cluster quickstart: phase ${c.status.phase}, master ${c.status.master?.ready ? 'ready' : 'not ready'}, workers ${c.status.workers?.summary} ready`
        : 'cluster quickstart: waiting for the operator';
      if (line !== last) {
        console.log(`[demo ${clock()}]   ${line}`);
        last = line;
      }
      return until(c) && c;
    },
    120_000,
    300,
  );

await watchCluster((c) => cond(c, 'Ready')?.status === 'True', 'cluster Ready');
say('cluster is Ready (kubectl wait --for=condition=Ready computecluster/quickstart works too)');

let lastJob = '';
const job = await waitFor(
  'job finished',
  async () => {
    const j = await kjson(['get', '-n', ns, 'cjob', 'quickstart-pi']);
    const a = j.status?.attempts?.at(-1);
    const line = `job quickstart-pi: ${j.status?.phase ?? 'Pending'}${a ? `, attempt ${a.index} (driver ${a.podName})` : ''}`;
    if (line !== lastJob) {
      console.log(`[demo ${clock()}]   ${line}`);
      lastJob = line;
    }
    return ['Succeeded', 'Failed'].includes(j.status?.phase) && j;
  },
  180_000,
  500,
);
say(`job ${job.status.phase.toLowerCase()} after ${job.status.duration} (the simulated driver exits 0 after 20 s)`);

step('killing a worker: quickstart-worker-1 fails (exit code 137)');
const before = (await kjson(['get', '-n', ns, 'pod', 'quickstart-worker-1'])).metadata.uid;
await k([
  'annotate',
  '-n',
  ns,
  'pod',
  'quickstart-worker-1',
  'sim.gaffer.dev/fail-after=0s',
  'sim.gaffer.dev/exit-code=137',
  '--overwrite',
]);
await waitFor(
  'replaced',
  async () => {
    const p = await kjson(['get', '-n', ns, 'pod', 'quickstart-worker-1']).catch(() => undefined);
    return p && p.metadata.uid !== before && p.status?.phase === 'Running';
  },
  60_000,
  300,
);
const c1 = await watchCluster((c) => cond(c, 'Ready')?.status === 'True', 'Ready again');
say(
  `the operator replaced it with a new pod of the same name; podsReplaced=${c1.status.recovery?.podsReplaced}, last reason ${c1.status.recovery?.lastReason}`,
);
const evs = (await kjson(['get', 'events.events.k8s.io', '-n', ns])).items.filter(
  (e: any) => e.reportingController === 'gaffer.dev/operator',
);
for (const e of evs.slice(-3)) say(`event ${e.type} ${e.reason}: ${e.note}`);

step('scaling up: kubectl scale computecluster/quickstart --replicas=5');
await k(['scale', '-n', ns, 'computecluster/quickstart', '--replicas=5']);
await watchCluster((c) => c?.status?.workers?.readyReplicas === 5 && cond(c, 'Ready')?.status === 'True', '5 workers');

step('done. Everything keeps running; try:');
console.log(`  export KUBECONFIG=${KUBECONFIG}
  export PATH=${CLUSTER_DIR}/bin:$PATH
  kubectl get gaffer -n ${ns}                       # both kinds, with their printer columns
  kubectl get pods,svc -n ${ns}
  kubectl describe computecluster quickstart -n ${ns}  # conditions and events
  kubectl scale computecluster/quickstart -n ${ns} --replicas=2
  kubectl annotate pod quickstart-master -n ${ns} sim.gaffer.dev/fail-after=0s   # lose the master
  tail -f ${CLUSTER_DIR}/logs/operator.log
  npm run cluster:down                              # stops the operator and the control plane`);

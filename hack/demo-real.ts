// npm run demo -- --real: today's demo story on real pods. The operator runs from its image
// (helm install, Pod Security "restricted"); examples/real/dask.yaml runs a Dask scheduler,
// workers and a job whose driver checks a sum; a worker is SIGKILLed through containerd
// mid-computation and replaced; the job's result is printed. Leaves everything running.
import { readFileSync } from 'node:fs';
import { parseAllDocuments, stringify } from 'yaml';
import { CLUSTER_DIR, KUBECONFIG, ROOT } from './kubectl.ts';
import { k, kjson, kubectl, waitFor } from './local-cluster.ts';
import { NODE_NAME, OPERATOR_NS, RELEASE, ensureOperator, killContainer, leaseHolder } from './real-cluster.ts';

const ns = 'demo-real';
const say = (s: string) => console.log(`[demo] ${s}`);
const t0 = Date.now();
const clock = () => `${((Date.now() - t0) / 1000).toFixed(0).padStart(3)}s`;
const step = (s: string) => console.log(`\n[demo ${clock()}] ${s}`);
const cond = (o: any, type: string) => o?.status?.conditions?.find((c: any) => c.type === type);
const logs = async (pod: string) => (await kubectl(['logs', '-n', ns, pod])).stdout;

step(
  `installing the operator with helm from its image (localhost/gaffer:dev) into ${OPERATOR_NS}, Pod Security "restricted"`,
);
await ensureOperator();
const ops = (await kjson(['get', 'pods', '-n', OPERATOR_NS, '-l', `app.kubernetes.io/instance=${RELEASE}`])).items;
say(`operator pods ${ops.map((p: any) => `${p.metadata.name} (${p.status.podIP})`).join(', ')} on ${NODE_NAME}`);
say(`the Lease is held by ${await leaseHolder()}`);

await kubectl(['create', 'namespace', ns]);
if ((await kjson(['get', '-n', ns, 'cc,cjob'])).items.length) {
  say("removing the previous run's Dask cluster and jobs");
  await k(['delete', '-n', ns, 'cc,cjob', '--all', '--wait=true', '--timeout=120s']);
  await waitFor(
    'old pods gone',
    async () =>
      (await kjson(['get', 'pods', '-n', ns, '-l', 'app.kubernetes.io/managed-by=gaffer'])).items.length === 0,
    120_000,
  );
}

step('applying examples/real/dask.yaml: a Dask scheduler, 2 workers and the job dask-sum');
await k(['apply', '-n', ns, '-f', `${ROOT}examples/real/dask.yaml`]);
let last = '';
const watchCluster = (until: (c: any) => boolean, what: string) =>
  waitFor(
    what,
    async () => {
      const c = await kjson(['get', '-n', ns, 'cc', 'dask']).catch(() => undefined);
      const line = c?.status
        ? `cluster dask: phase ${c.status.phase}, master ${c.status.master?.ready ? 'ready' : 'not ready'}, workers ${c.status.workers?.summary} ready`
        : 'cluster dask: waiting for the operator';
      if (line !== last) {
        console.log(`[demo ${clock()}]   ${line}`);
        last = line;
      }
      return until(c) && c;
    },
    180_000,
    300,
  );
await watchCluster((c) => cond(c, 'Ready')?.status === 'True', 'cluster Ready');
say('cluster is Ready: real processes (dask scheduler, dask worker) in real containers');

const runJob = async (name: string, onProgress?: (done: number, total: number) => Promise<void>) => {
  let lastLine = '';
  let fired = false;
  const j = await waitFor(
    `job ${name} finished`,
    async () => {
      const j = await kjson(['get', '-n', ns, 'cjob', name]);
      const a = j.status?.attempts?.at(-1);
      const progress = a ? [...(await logs(a.podName)).matchAll(/progress (\d+)\/(\d+)/g)].pop() : undefined;
      const line = `job ${name}: ${j.status?.phase ?? 'Pending'}${a ? `, attempt ${a.index} (driver ${a.podName})` : ''}${progress ? `, ${Math.floor(Number(progress[1]) / 10) * 10}+/${progress[2]} tasks done` : ''}`;
      if (line !== lastLine) {
        console.log(`[demo ${clock()}]   ${line}`);
        lastLine = line;
      }
      if (progress && onProgress && !fired && Number(progress[1]) >= 5) {
        fired = true;
        await onProgress(Number(progress[1]), Number(progress[2]));
      }
      return ['Succeeded', 'Failed'].includes(j.status?.phase) && j;
    },
    300_000,
    500,
  );
  const driver = j.status.attempts.at(-1).podName;
  const result = (await logs(driver)).split('\n').find((l: string) => l.startsWith('result:'));
  say(`job ${name} ${j.status.phase.toLowerCase()} after ${j.status.duration}; the driver printed:`);
  say(`  ${result ?? '(no result line)'}`);
  return j;
};
await runJob('dask-sum');

step('again, and this time SIGKILL worker dask-worker-1 through containerd in the middle of the computation');
const job2 = parseAllDocuments(readFileSync(`${ROOT}examples/real/dask.yaml`, 'utf8'))
  .map((d) => d.toJS())
  .find((o) => o.kind === 'ComputeJob');
job2.metadata.name = 'dask-sum-2';
await k(['apply', '-n', ns, '-f', '-'], stringify(job2));
let killedUid = '';
await runJob('dask-sum-2', async (done, total) => {
  killedUid = await killContainer(ns, 'dask-worker-1');
  say(`killed dask-worker-1's container after ${done}/${total} tasks (ctr tasks kill -s SIGKILL)`);
});
const c1 = await watchCluster((c) => cond(c, 'Ready')?.status === 'True', 'Ready again');
const w1 = await kjson(['get', '-n', ns, 'pod', 'dask-worker-1']);
say(
  `the operator replaced it with a new pod of the same name (uid ${killedUid.slice(0, 8)} -> ${w1.metadata.uid.slice(0, 8)}); podsReplaced=${c1.status.recovery?.podsReplaced}, last reason ${c1.status.recovery?.lastReason}`,
);
say('Dask re-ran the lost tasks on the workers left and the new one: the answer is still right');

step('scaling up: kubectl scale computecluster/dask --replicas=3');
await k(['scale', '-n', ns, 'computecluster/dask', '--replicas=3']);
await watchCluster((c) => c?.status?.workers?.readyReplicas === 3 && cond(c, 'Ready')?.status === 'True', '3 workers');

step('done. Everything keeps running; try:');
console.log(`  export KUBECONFIG=${KUBECONFIG}
  export PATH=${CLUSTER_DIR}/bin:$PATH
  kubectl get gaffer,pods -n ${ns} -o wide
  kubectl logs -n ${ns} dask-sum-2-driver-0
  kubectl logs -n ${OPERATOR_NS} deployment/${RELEASE}
  kubectl apply -n ${ns} -f examples/real/locust.yaml     # Locust, in the same way
  npm run cluster:down                                     # stops everything, undoes the host changes`);

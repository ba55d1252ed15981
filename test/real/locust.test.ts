// Locust on the real node (examples/real/locust.yaml): a master and workers in distributed mode
// loading an HTTP target in the same namespace; the driver checks every worker reported and
// requests were made; scaling the ComputeCluster changes the master's worker count.
import { expect } from 'chai';
import { ROOT, deleteNamespace, ensureOperator, k, kjson, podLogs, testNamespace, waitFor } from './real.ts';

describe('Locust on a real node (examples/real/locust.yaml)', function () {
  let ns: string;
  before(async () => {
    await ensureOperator();
    ns = await testNamespace('locust');
    await k(['apply', '-n', ns, '-f', `${ROOT}examples/real/locust.yaml`]);
  });
  after(async () => {
    if (ns) await deleteNamespace(ns);
  });

  /** The master's own view, read from inside its pod. */
  const masterStats = async () =>
    JSON.parse(
      await k([
        'exec',
        '-n',
        ns,
        'locust-master',
        '--',
        'python3',
        '-c',
        'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:8089/stats/requests").read().decode())',
      ]),
    );

  it('runs the check job: every worker reported and the target served requests', async () => {
    const j = await waitFor(
      'ComputeJob locust-check finished',
      async () => {
        const j = await kjson(['get', '-n', ns, 'computejob', 'locust-check']);
        return ['Succeeded', 'Failed'].includes(j.status?.phase) ? j : undefined;
      },
      // Up to backoffLimit + 1 = 3 attempts of the driver, each giving up after its own 120 s
      // deadline (examples/real/locust.yaml), plus pod start-up and backoff.
      3 * (120_000 + 30_000),
    );
    const logs = await podLogs(ns, 'locust-check-driver-0');
    expect(j.status.phase, logs).to.equal('Succeeded');
    expect(logs).to.match(/2 workers \[[1-9]\d*, [1-9]\d*\], [1-9]\d* requests, 0 failures/);
    expect(logs).to.include('OK: every worker reported and requests were made');
    const target = await k(['logs', '-n', ns, 'deployment/locust-target']);
    expect(target).to.match(/"GET \/ HTTP\/1\.1" 200/);
  });

  it('counts 3 workers on the master after the ComputeCluster is scaled to 3', async () => {
    await k(['scale', '-n', ns, 'computecluster/locust', '--replicas=3']);
    const stats = await waitFor(
      'the master to count 3 workers with users',
      async () => {
        const s = await masterStats();
        return s.workers?.length === 3 && s.workers.every((w: any) => w.user_count > 0) ? s : undefined;
      },
      120_000,
      1000,
    );
    expect(stats.workers.map((w: any) => w.id.split('_')[0]).sort()).to.deep.equal([
      'locust-worker-0',
      'locust-worker-1',
      'locust-worker-2',
    ]);
  });
});

// Dask on the real node (examples/real/dask.yaml), run by the operator installed from its image:
// the job's driver connects to the scheduler through GAFFER_MASTER_ADDR and checks a sum; a
// worker or the master SIGKILLed through containerd mid-computation is recovered from.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parseAllDocuments, stringify } from 'yaml';
import {
  ROOT,
  deleteNamespace,
  ensureOperator,
  k,
  kjson,
  killContainer,
  podLogs,
  testNamespace,
  waitFor,
} from './real.ts';

const example = parseAllDocuments(readFileSync(`${ROOT}examples/real/dask.yaml`, 'utf8')).map((d) => d.toJS());
const exampleJob = example.find((o) => o.kind === 'ComputeJob');

describe('Dask on a real node (examples/real/dask.yaml)', function () {
  let ns: string;
  before(async () => {
    await ensureOperator();
    ns = await testNamespace('dask');
    await k(['apply', '-n', ns, '-f', `${ROOT}examples/real/dask.yaml`]);
  });
  after(async () => {
    if (ns) await deleteNamespace(ns);
  });

  const job = (name: string) => kjson(['get', '-n', ns, 'computejob', name]);
  /** Waits for the job to finish; a Failed job fails the test at once, with its status. */
  const succeeded = async (name: string, timeout = 240_000) => {
    const j = await waitFor(
      `ComputeJob ${name} to finish`,
      async () => {
        const j = await job(name);
        return ['Succeeded', 'Failed'].includes(j.status?.phase) ? j : undefined;
      },
      timeout,
    );
    expect(j.status.phase, `job ${name}: ${JSON.stringify(j.status)}`).to.equal('Succeeded');
    return j;
  };
  /**
   * A copy of the example's job under another name, with KILL_TASKS tasks of 1 s: about a minute
   * on 2 workers, so that a kill lands mid-computation even on a loaded 2-core machine.
   */
  const KILL_TASKS = 120;
  const runJob = async (name: string) => {
    const j = structuredClone(exampleJob);
    j.metadata.name = name;
    const driver = j.spec.template.spec.containers[0];
    driver.env = [
      ...(driver.env ?? []).filter((e: any) => !['SUM_TASKS', 'SUM_TASK_SECONDS'].includes(e.name)),
      { name: 'SUM_TASKS', value: String(KILL_TASKS) },
      { name: 'SUM_TASK_SECONDS', value: '1' },
    ];
    await k(['apply', '-n', ns, '-f', '-'], stringify(j));
  };
  /** The driver's last progress line: [done, total], or undefined before the first. */
  const progress = async (driver: string) => {
    const m = [...(await podLogs(ns, driver)).matchAll(/progress (\d+)\/(\d+)/g)].pop();
    return m ? ([Number(m[1]), Number(m[2])] as const) : undefined;
  };
  /** Waits until the driver of an attempt has finished `n` tasks, i.e. is mid-computation. */
  const midComputation = (driver: string, n = 5) =>
    waitFor(
      `${driver} to have finished ${n} tasks`,
      async () => {
        const p = await progress(driver);
        return p && p[0] >= n && p[0] < p[1] - 10;
      },
      180_000,
      200,
    );
  const expectRightAnswer = async (driver: string, tasks = 60) => {
    const logs = await podLogs(ns, driver);
    expect(logs).to.match(/connected to tcp:\/\/dask-master\.[a-z0-9-]+\.svc:8786: 2 workers/);
    const n = BigInt(tasks) * 100_000n;
    const sum = String(((n - 1n) * n * (2n * n - 1n)) / 6n);
    expect(logs).to.include(`= ${sum} (expected ${sum}): OK`);
  };

  it('runs the job: the driver computes the sum on the workers and gets the right answer', async () => {
    const j = await succeeded('dask-sum');
    expect(j.status.attempts).to.have.length(1);
    await expectRightAnswer('dask-sum-driver-0');
  });

  it('replaces a worker SIGKILLed mid-computation; the job still gets the right answer', async () => {
    await runJob('dask-worker-kill');
    await midComputation('dask-worker-kill-driver-0');
    const oldUid = await killContainer(ns, 'dask-worker-0');
    // Read after the kill: the computation was not over yet, so the kill was mid-computation.
    const atKill = await progress('dask-worker-kill-driver-0');
    expect(atKill?.[0], 'tasks done when the worker was killed').to.be.lessThan(KILL_TASKS);
    const replaced = await waitFor(
      'dask-worker-0 replaced by a new, Ready pod',
      async () => {
        const p = await kjson(['get', 'pod', '-n', ns, 'dask-worker-0']).catch(() => undefined);
        return p &&
          p.metadata.uid !== oldUid &&
          p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True')
          ? p
          : undefined;
      },
      120_000,
    );
    expect(replaced.metadata.uid).to.not.equal(oldUid);
    const j = await succeeded('dask-worker-kill');
    expect(j.status.attempts, 'a worker loss does not end the attempt').to.have.length(1);
    expect((await progress('dask-worker-kill-driver-0'))?.[0], 'progress after the kill').to.equal(KILL_TASKS);
    await expectRightAnswer('dask-worker-kill-driver-0', KILL_TASKS);
    const events = (await kjson(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=dask'])).items;
    expect(events.map((e: any) => `${e.reason}: ${e.message}`).join('\n')).to.match(
      /PodFailed: pod dask-worker-0 failed.*137/,
    );
  });

  it('ends the attempt as MasterRestarted when the master is SIGKILLed mid-job; the retry succeeds', async () => {
    await runJob('dask-master-kill');
    await midComputation('dask-master-kill-driver-0');
    const masterUid = await killContainer(ns, 'dask-master');
    const j = await succeeded('dask-master-kill', 300_000);
    const attempts = j.status.attempts;
    expect(attempts.map((a: any) => a.reason)).to.deep.equal(['MasterRestarted', 'Succeeded']);
    expect((await kjson(['get', 'pod', '-n', ns, 'dask-master'])).metadata.uid).to.not.equal(masterUid);
    await expectRightAnswer('dask-master-kill-driver-1', KILL_TASKS);
  });
});

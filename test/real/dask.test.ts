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
  const succeeded = (name: string, timeout = 240_000) =>
    waitFor(
      `ComputeJob ${name} Succeeded`,
      async () => {
        const j = await job(name);
        if (j.status?.phase === 'Failed') throw new Error(`job ${name} failed: ${JSON.stringify(j.status)}`);
        return j.status?.phase === 'Succeeded' ? j : undefined;
      },
      timeout,
    );
  /** A copy of the example's job under another name. */
  const runJob = async (name: string) => {
    const j = structuredClone(exampleJob);
    j.metadata.name = name;
    await k(['apply', '-n', ns, '-f', '-'], stringify(j));
  };
  /** Waits until the driver of an attempt has finished `n` tasks, i.e. is mid-computation. */
  const midComputation = (driver: string, n = 5) =>
    waitFor(
      `${driver} to have finished ${n} tasks`,
      async () => {
        const m = [...(await podLogs(ns, driver)).matchAll(/progress (\d+)\/(\d+)/g)].pop();
        return m && Number(m[1]) >= n && Number(m[1]) < Number(m[2]) - 10;
      },
      180_000,
      200,
    );
  const expectRightAnswer = async (driver: string) => {
    const logs = await podLogs(ns, driver);
    expect(logs).to.match(/connected to tcp:\/\/dask-master\.[a-z0-9-]+\.svc:8786: 2 workers/);
    expect(logs).to.include('= 71999982000001000000 (expected 71999982000001000000): OK');
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
    await expectRightAnswer('dask-worker-kill-driver-0');
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
    await expectRightAnswer('dask-master-kill-driver-1');
  });
});

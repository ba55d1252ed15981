// npm run demo -- --real (hack/demo-real.ts): the demo's story on real pods.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { ROOT, ensureRealCluster } from './real.ts';

describe('npm run demo -- --real', function () {
  before(() => ensureRealCluster());

  it('narrates Dask on real pods: cluster Ready, job result, a worker SIGKILLed and replaced, the right answer again, scaled up', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', `${ROOT}hack/demo-real.ts`], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 540_000,
    });
    const out = `${r.stdout}${r.stderr}`;
    expect(r.status, out).to.equal(0);
    expect(out).to.match(/the Lease is held by gaffer-op-/);
    const right = 'result: sum of squares below 6000000 = 71999982000001000000 (expected 71999982000001000000): OK';
    expect(out.split(right).length - 1, 'two jobs, two right answers').to.equal(2);
    for (const line of [
      'cluster is Ready: real processes',
      'job dask-sum succeeded after',
      "killed dask-worker-1's container after",
      'the operator replaced it with a new pod of the same name',
      'job dask-sum-2 succeeded after',
      'workers 3/3 ready',
      'npm run cluster:down',
    ]) {
      expect(out).to.include(line);
    }
  });
});

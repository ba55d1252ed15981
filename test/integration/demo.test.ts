// npm run demo's narration (hack/demo.ts) against the local control plane.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { ROOT, ensureCluster } from './harness.ts';

describe('npm run demo', function () {
  this.timeout(300_000);
  before(() => ensureCluster());

  it('brings up the operator and narrates the quickstart: Ready, job succeeded, worker replaced, scaled up', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', `${ROOT}hack/demo.ts`], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 280_000,
    });
    const out = `${r.stdout}${r.stderr}`;
    expect(r.status, out).to.equal(0);
    expect(out).to.match(/operator is up|operator already running/);
    for (const line of [
      'cluster is Ready',
      'job succeeded after',
      'the operator replaced it with a new pod of the same name',
      'workers 5/5 ready',
      'npm run cluster:down',
    ]) {
      expect(out).to.include(line);
    }
  });
});

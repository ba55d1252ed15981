// A short soak (hack/soak.ts, README "Soak"): two minutes of every kind of fault from a fixed seed
// on the shared control plane, then no invariant violation and convergence within the bound. It
// restarts kube-apiserver (hack/cluster-restart.sh) and makes a node NotReady: afterwards the API
// server answers /readyz and every node is Ready again, for the tests that follow.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { CLUSTER_DIR, ROOT, ensureCluster, k, kjson, untilNodeReady, waitFor } from './harness.ts';

/** The newest modification time under a directory (ms). */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

describe('soak: 2 minutes of random faults (hack/soak.ts)', function () {
  // Setup ~15 s, faults 120 s, settle bound 100 s, cleanup ~10 s.
  this.timeout(300_000);
  let child: ChildProcess | undefined;
  const report = join(CLUSTER_DIR, `soak-test-${process.pid}.json`);

  before(() => ensureCluster());
  after(async () => {
    // A test timed out: the soak undoes what it did on SIGTERM.
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    }
    rmSync(report, { force: true });
    await waitFor(
      'kube-apiserver /readyz',
      async () => (await k(['get', '--raw', '/readyz'])).trim() === 'ok',
      120_000,
    );
    const nodes = await kjson(['get', 'nodes']);
    expect(nodes.items.filter((n: any) => n.metadata.labels?.['sim.gaffer.dev/not-ready'])).to.deep.equal([]);
    // The next file finds the nodes as it would after any other test that made one NotReady.
    const fake = nodes.items.filter((n: any) => n.metadata.annotations?.['kwok.x-k8s.io/node'] === 'fake');
    await Promise.all(fake.map((n: any) => untilNodeReady(n.metadata.name)));
  });

  it('no invariant violation; every cluster Ready and every job finished within 100 s of the last fault', async () => {
    // The operator runs compiled (dist/); npm test builds it first, a lone run builds it when stale.
    const entry = join(ROOT, 'dist/src/cli.js');
    const fresh = existsSync(entry) && statSync(entry).mtimeMs >= newest(join(ROOT, 'src'));
    const args = ['--minutes', '2', '--seed', '21', '--fault-every', '6', '--settle-seconds', '100', '--json', report];
    child = spawn(process.execPath, ['--import', 'tsx', 'hack/soak.ts', ...args, ...(fresh ? ['--no-build'] : [])], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((r) => child!.once('exit', r));
    const tail = out.split('\n').slice(-60).join('\n');
    expect(existsSync(report), `no report; the soak printed:\n${tail}`).to.equal(true);
    const r = JSON.parse(readFileSync(report, 'utf8'));
    console.log(
      out
        .split('\n')
        .filter((l) => !l.startsWith('['))
        .map((l) => `      ${l}`)
        .join('\n'),
    );
    expect(r.violations, tail).to.deep.equal([]);
    expect(r.converged, `not converged: ${r.pending.join(', ')}\n${tail}`).to.equal(true);
    expect(Object.keys(r.faultsByKind).length, 'fault kinds injected').to.be.at.least(8);
    expect(code, tail).to.equal(0);
  });
});

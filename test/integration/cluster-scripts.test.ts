// hack/cluster-up.sh and cluster-down.sh, on a second control plane beside the shared one
// (another state directory and a port offset), so the shared cluster is left alone.
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './harness.ts';

function run(script: string, env: Record<string, string>) {
  const r = spawnSync('bash', [join(ROOT, 'hack', script)], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 240_000,
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

// Processes whose command line mentions the directory: what the scripts started there.
function processesUsing(dir: string): string[] {
  const r = spawnSync('pgrep', ['-af', dir], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l.trim() && !l.includes('pgrep'));
}

describe('hack/cluster-up.sh and cluster-down.sh', function () {
  this.timeout(300_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gaffer-cluster-'));
  });
  afterEach(() => {
    run('cluster-down.sh', { GAFFER_CLUSTER_DIR: dir });
    rmSync(dir, { recursive: true, force: true });
  });

  it('names a component that fails to start, shows its log, and leaves nothing running', () => {
    const r = run('cluster-up.sh', {
      GAFFER_CLUSTER_DIR: dir,
      GAFFER_PORT_OFFSET: '20000',
      GAFFER_NODES: '1',
      GAFFER_KUBE_APISERVER_FLAGS: '--no-such-flag',
    });
    expect(r.code).to.not.equal(0);
    expect(r.out).to.include('kube-apiserver exited during start-up');
    expect(r.out).to.include('unknown flag: --no-such-flag');
    expect(processesUsing(dir)).to.deep.equal([]);
  });

  it('starts a cluster, reuses it when run again, and cluster-down stops every process', () => {
    const env = { GAFFER_CLUSTER_DIR: dir, GAFFER_PORT_OFFSET: '20000', GAFFER_NODES: '2' };
    const up = run('cluster-up.sh', env);
    expect(up.code, up.out).to.equal(0);
    const nodes = execFileSync(
      join(dir, 'bin/kubectl'),
      ['--kubeconfig', join(dir, 'kubeconfig'), 'get', 'nodes', '-o', 'name'],
      { encoding: 'utf8' },
    );
    expect(nodes.trim().split('\n')).to.deep.equal(['node/kwok-node-0', 'node/kwok-node-1']);
    const version = JSON.parse(
      execFileSync(join(dir, 'bin/kubectl'), ['--kubeconfig', join(dir, 'kubeconfig'), 'version', '-o', 'json'], {
        encoding: 'utf8',
      }),
    );
    expect(version.serverVersion.gitVersion).to.match(/^v1\.\d+\.\d+$/);
    expect(processesUsing(dir).length).to.be.greaterThanOrEqual(5);

    const again = run('cluster-up.sh', env);
    expect(again.code).to.equal(0);
    expect(again.out).to.include('already up; reusing it');

    const down = run('cluster-down.sh', env);
    expect(down.code).to.equal(0);
    expect(processesUsing(dir)).to.deep.equal([]);
    expect(existsSync(join(dir, 'kubeconfig'))).to.equal(false);
  });

  it('refuses a bad node count with a message naming it', () => {
    const r = run('cluster-up.sh', { GAFFER_CLUSTER_DIR: dir, GAFFER_NODES: 'three' });
    expect(r.code).to.not.equal(0);
    expect(r.out).to.include('GAFFER_NODES must be a positive number');
  });
});

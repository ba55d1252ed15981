// hack/real-node-check.sh: a host that cannot run a real node fails the run with what is missing.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../hack/kubectl.ts';

describe('hack/real-node-check.sh', () => {
  it('fails naming the missing cgroup hierarchies and bridge support', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nocg-'));
    // An `ip` that cannot make bridges, first on PATH.
    writeFileSync(join(dir, 'ip'), '#!/bin/sh\nexit 2\n');
    chmodSync(join(dir, 'ip'), 0o755);
    const r = spawnSync('bash', [`${ROOT}hack/real-node-check.sh`], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, GAFFER_CGROUP_ROOT: join(dir, 'cgroup') },
    });
    expect(r.status).to.equal(1);
    expect(r.stderr).to.include('this host cannot run a real node; missing:');
    expect(r.stderr).to.include(`cgroup v1 hierarchy ${dir}/cgroup/memory`);
    expect(r.stderr).to.include('Linux bridges (ip link add type bridge failed)');
  });
});

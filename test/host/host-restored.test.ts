// After `npm run cluster:down`, the host is exactly as it was before `cluster:up --real-node`:
// hack/test-real.sh snapshots it (hack/host-state.sh) before the node starts and after it is gone.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ROOT } from '../../hack/kubectl.ts';

describe('host after cluster:down', () => {
  it('has the links, nftables tables, iptables chains, mounts, cgroups, sysctls, paths and processes it had before the real node', () => {
    const file = process.env.GAFFER_HOST_BEFORE;
    if (!file) throw new Error('GAFFER_HOST_BEFORE is not set: run this through hack/test-real.sh');
    const before = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    const after = execFileSync('bash', [`${ROOT}hack/host-state.sh`], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    expect(before.length, 'the snapshot before is empty').to.be.greaterThan(10);
    expect(
      after.filter((l) => !before.includes(l)),
      'left behind',
    ).to.deep.equal([]);
    expect(
      before.filter((l) => !after.includes(l)),
      'lost',
    ).to.deep.equal([]);
  });
});

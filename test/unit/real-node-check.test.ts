// hack/real-node-check.sh: a host that cannot run a real node fails the run with what is missing.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
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

describe('hack/real-node-check.sh on a host where the node would take something over', () => {
  it('refuses to start, naming the existing bridge, address, nft tables and KUBE-* chains with how to remove them', function () {
    if (process.getuid?.() !== 0) this.skip(); // the root check comes first
    const dir = mkdtempSync(join(tmpdir(), 'inuse-'));
    const bin = (name: string, body: string) => {
      writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
      chmodSync(join(dir, name), 0o755);
    };
    // Every probe succeeds; the bridge, the address and the tables exist; a KUBE-* chain exists.
    bin(
      'ip',
      `case "$*" in *"addr show"*) echo '5: eth9    inet 10.123.0.1/24 brd 10.123.0.255 scope global eth9';; esac; exit 0`,
    );
    bin('nft', 'exit 0');
    bin('modprobe', 'exit 0');
    bin('iptables-save', `printf '*nat\\n:KUBE-SERVICES - [0:0]\\nCOMMIT\\n'`);
    bin('ip6tables-save', 'exit 0');
    mkdirSync(join(dir, 'cgroup'));
    writeFileSync(join(dir, 'cgroup', 'cgroup.controllers'), 'cpu memory pids\n');
    const r = spawnSync('bash', [`${ROOT}hack/real-node-check.sh`], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, GAFFER_CGROUP_ROOT: join(dir, 'cgroup') },
    });
    expect(r.status).to.equal(1);
    expect(r.stderr).to.include('refusing to start a real node');
    expect(r.stderr).to.include('the bridge gaffer0 (ip link del gaffer0)');
    expect(r.stderr).to.include('the address 10.123.0.1 on eth9 (ip addr del 10.123.0.1 dev eth9)');
    expect(r.stderr).to.include('the nftables table ip kube-proxy (nft delete table ip kube-proxy)');
    expect(r.stderr).to.include('the nftables table inet gaffer-real-node');
    expect(r.stderr).to.include('iptables nat/KUBE-SERVICES');
  });
});

// The real node's own nftables table (hack/real-node-up.sh, `inet gaffer-real-node`): a pod's
// packets to an address outside the bridge subnet are dropped by its forward rule, never sent
// un-NATed out of the host's uplink.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { stringify } from 'yaml';
import { deleteNamespace, ensureRealCluster, k, kjson, testNamespace, waitFor } from './real.ts';

const TABLE = 'gaffer-real-node';
/** Packets the named counter of our table has counted. */
function dropped(counter: string): number {
  const out = JSON.parse(execFileSync('nft', ['-j', 'list', 'counter', 'inet', TABLE, counter], { encoding: 'utf8' }));
  const c = out.nftables.find((o: any) => o.counter)?.counter;
  if (!c) throw new Error(`no counter ${counter} in table inet ${TABLE}: ${JSON.stringify(out)}`);
  return Number(c.packets);
}

describe('pod egress on a real node', function () {
  let ns: string;
  before(async () => {
    await ensureRealCluster();
    ns = await testNamespace('egress');
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'probe' },
      spec: {
        containers: [
          { name: 'probe', image: 'localhost/gaffer-py:1', imagePullPolicy: 'Never', command: ['sleep', 'infinity'] },
        ],
        terminationGracePeriodSeconds: 0,
      },
    };
    await k(['apply', '-n', ns, '-f', '-'], stringify(pod));
    await waitFor(
      'the probe pod Ready',
      async () => {
        const p = await kjson(['get', 'pod', '-n', ns, 'probe']);
        return p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');
      },
      120_000,
    );
  });
  after(async () => {
    if (ns) await deleteNamespace(ns);
  });

  it('cannot reach an address outside 10.123.0.0/24: the forward rule drops it (its counter grows)', async () => {
    const before = dropped('pod-egress-dropped');
    // 192.0.2.1: TEST-NET-1 (RFC 5737), never routed anywhere; 3 SYNs at most in 3 s.
    const code = [
      'import socket, sys',
      's = socket.socket(); s.settimeout(3)',
      'try:',
      '    s.connect(("192.0.2.1", 80)); print("connected", file=sys.stderr); sys.exit(0)',
      'except OSError as e:',
      '    print("failed:", e, file=sys.stderr); sys.exit(3)',
    ].join('\n');
    const r = await k(['exec', '-n', ns, 'probe', '--', 'python3', '-c', code]).then(
      (out) => ({ ok: true, out }),
      (e: Error) => ({ ok: false, out: String(e) }),
    );
    expect(r.ok, `the connection must fail: ${r.out}`).to.equal(false);
    expect(r.out).to.match(/failed: timed out/);
    expect(dropped('pod-egress-dropped'), 'packets dropped by the forward rule').to.be.greaterThan(before);
  });
});

// The soak's reading of the audit log's pod deletions (hack/soak/deletions.ts).
import { expect } from 'chai';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeletionTail, isDisruption, type Deletion } from '../../hack/soak/deletions.ts';

const line = (name: string, user: string, code = 200, sub?: string, verb = 'delete') =>
  JSON.stringify({
    stage: 'ResponseComplete',
    verb: sub ? 'create' : verb,
    requestReceivedTimestamp: '2026-11-27T02:31:57.368Z',
    user: { username: user },
    objectRef: { resource: 'pods', namespace: 'ns', name, ...(sub ? { subresource: sub } : {}) },
    responseStatus: { code },
  }) + '\n';

describe('soak: pod deletions from the audit log', () => {
  const dir = mkdtempSync(join(tmpdir(), 'soak-audit-'));
  const file = join(dir, 'audit.log');
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads only what was written since the last call, a line written in two parts once whole, and a rotated log from its start', () => {
    writeFileSync(file, line('a', 'system:serviceaccount:kube-system:node-controller'));
    const tail = new DeletionTail(file, ['ns']);
    expect(tail.next().map((d) => d.pod)).to.deep.equal(['a']);
    expect(tail.next()).to.deep.equal([]);
    const half = line('b', 'kubernetes-admin');
    appendFileSync(file, half.slice(0, 20));
    expect(tail.next()).to.deep.equal([]);
    appendFileSync(file, half.slice(20));
    expect(tail.next().map((d) => d.pod)).to.deep.equal(['b']);
    writeFileSync(file, line('c', 'kubernetes-admin'));
    expect(tail.next().map((d) => d.pod)).to.deep.equal(['c']);
  });

  const cases: { name: string; d: Partial<Deletion>; want: boolean }[] = [
    {
      name: "the taint manager's delete",
      d: { who: 'kube-system:node-controller', verb: 'delete', code: 200 },
      want: true,
    },
    { name: 'an eviction', d: { who: 'kubernetes-admin', verb: 'evict', code: 201 }, want: true },
    { name: 'a refused eviction (429)', d: { who: 'kubernetes-admin', verb: 'evict', code: 429 }, want: false },
    { name: "the operator's delete", d: { who: 'gaffer-system:gaffer', verb: 'delete', code: 200 }, want: false },
    { name: "kwok's final delete", d: { who: 'gaffer-kwok', verb: 'delete', code: 200 }, want: false },
    { name: "kwok's stale delete, refused", d: { who: 'gaffer-kwok', verb: 'delete', code: 403 }, want: false },
  ];
  for (const t of cases)
    it(`is a disruption Kubernetes made: ${t.name} → ${t.want}`, () =>
      expect(isDisruption({ at: 0, ns: 'ns', pod: 'p', ...t.d } as Deletion)).to.equal(t.want));
});

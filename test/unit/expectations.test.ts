import { expect } from 'chai';
import { EXPECTATIONS_TIMEOUT_MS, Expectations } from '../../src/controllers/common/expectations.ts';
import { observeExpectations } from '../../src/controllers/computecluster/watches.ts';
import type { V1Pod } from '../../src/kube/types.ts';
import type { InformerEvent } from '../../src/runtime/informer.ts';

describe('Expectations (in-flight creates and deletes per owner, issue 11 #13)', () => {
  const KEY = 'ns/c';
  type Step = (e: Expectations, clock: { now: number }) => void;
  const expectCreate =
    (name: string): Step =>
    (e) =>
      e.expectCreate(KEY, name);
  const expectDelete =
    (uid: string): Step =>
    (e) =>
      e.expectDelete(KEY, uid);
  const created =
    (name: string): Step =>
    (e) =>
      e.createObserved(KEY, name);
  const deleted =
    (uid: string): Step =>
    (e) =>
      e.deleteObserved(KEY, uid);
  const wait =
    (ms: number): Step =>
    (_, clock) =>
      void (clock.now += ms);

  const cases: { name: string; steps: Step[]; satisfied: boolean }[] = [
    { name: 'nothing in flight', steps: [], satisfied: true },
    { name: 'a delete sent, not seen yet', steps: [expectDelete('u1')], satisfied: false },
    { name: 'a delete sent and seen', steps: [expectDelete('u1'), deleted('u1')], satisfied: true },
    {
      name: 'the same delete seen twice (an update, then the delete) lowers it once',
      steps: [expectDelete('u1'), expectDelete('u2'), deleted('u1'), deleted('u1')],
      satisfied: false,
    },
    { name: 'another pod deleted does not count', steps: [expectDelete('u1'), deleted('u9')], satisfied: false },
    { name: 'a create sent, not seen yet', steps: [expectCreate('c-worker-4')], satisfied: false },
    { name: 'a create sent and seen', steps: [expectCreate('c-worker-4'), created('c-worker-4')], satisfied: true },
    {
      name: 'creates and deletes: all must be seen',
      steps: [expectCreate('c-master'), expectDelete('u1'), created('c-master')],
      satisfied: false,
    },
    { name: 'expired after the timeout', steps: [expectDelete('u1'), wait(EXPECTATIONS_TIMEOUT_MS)], satisfied: true },
    {
      name: 'not expired just before the timeout',
      steps: [expectDelete('u1'), wait(EXPECTATIONS_TIMEOUT_MS - 1)],
      satisfied: false,
    },
    {
      name: 'raising again restarts the timeout',
      steps: [expectDelete('u1'), wait(EXPECTATIONS_TIMEOUT_MS - 1), expectDelete('u2'), wait(10)],
      satisfied: false,
    },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.satisfied ? 'satisfied' : 'not satisfied'}`, () => {
      const clock = { now: 1000 };
      const e = new Expectations(EXPECTATIONS_TIMEOUT_MS, () => clock.now);
      for (const step of c.steps) step(e, clock);
      expect(e.satisfied(KEY)).to.equal(c.satisfied);
    });
  }

  it('keeps owners apart, reports what it waits for, and forgets an owner', () => {
    const e = new Expectations(1000, () => 0);
    e.expectDelete(KEY, 'u1');
    e.expectCreate(KEY, 'c-worker-1');
    expect(e.satisfied('ns/other')).to.equal(true);
    expect(e.waitingFor(KEY)).to.deep.equal({ creates: 1, deletes: 1, deleting: new Set(['u1']), expiresAt: 1000 });
    e.forget(KEY);
    expect(e.satisfied(KEY)).to.equal(true);
    expect(e.waitingFor(KEY)).to.equal(undefined);
  });
});

describe('pod events lower the expectations of their cluster (watches.ts observeExpectations)', () => {
  const pod = (name: string, uid: string, terminating = false): V1Pod => ({
    metadata: {
      name,
      uid,
      namespace: 'ns',
      labels: { 'compute.gaffer.dev/cluster': 'c' },
      ...(terminating ? { deletionTimestamp: new Date('2026-01-01T00:00:00Z') } : {}),
    },
  });
  const cases: { name: string; event: InformerEvent<V1Pod>; satisfied: boolean }[] = [
    { name: 'the created pod added', event: { type: 'add', obj: pod('c-worker-1', 'new') }, satisfied: false },
    {
      name: 'the deleted pod terminating',
      event: { type: 'update', obj: pod('c-worker-4', 'u4', true), old: pod('c-worker-4', 'u4') },
      satisfied: false,
    },
    { name: 'the deleted pod gone', event: { type: 'delete', obj: pod('c-worker-4', 'u4') }, satisfied: false },
    {
      name: 'another pod updated',
      event: { type: 'update', obj: pod('c-worker-0', 'u0'), old: pod('c-worker-0', 'u0') },
      satisfied: false,
    },
  ];
  for (const t of cases) {
    it(`${t.name} lowers what it shows, and only that`, () => {
      const e = new Expectations();
      e.expectCreate('ns/c', 'c-worker-1');
      e.expectDelete('ns/c', 'u4');
      observeExpectations(e, t.event);
      const left = e.waitingFor('ns/c');
      const createSeen = t.event.type === 'add';
      const deleteSeen = t.event.obj.metadata?.uid === 'u4';
      expect(left).to.include({ creates: createSeen ? 0 : 1, deletes: deleteSeen ? 0 : 1 });
      expect(e.satisfied('ns/c')).to.equal(t.satisfied);
    });
  }
  it('an add of a pod already terminating is the create seen (and its delete)', () => {
    const e = new Expectations();
    e.expectCreate('ns/c', 'c-worker-1');
    observeExpectations(e, { type: 'add', obj: pod('c-worker-1', 'new', true) });
    expect(e.satisfied('ns/c')).to.equal(true);
  });
  it('is satisfied once both are seen', () => {
    const e = new Expectations();
    e.expectCreate('ns/c', 'c-worker-1');
    e.expectDelete('ns/c', 'u4');
    observeExpectations(e, { type: 'add', obj: pod('c-worker-1', 'new') });
    observeExpectations(e, { type: 'delete', obj: pod('c-worker-4', 'u4') });
    expect(e.satisfied('ns/c')).to.equal(true);
  });
});

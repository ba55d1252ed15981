import { expect } from 'chai';
import FakeTimers from '@sinonjs/fake-timers';
import { LeaderElector, checkTimings, type LeaseRecord, type LeaseStore } from '../../src/runtime/leaderelection.ts';
import { silentLogger } from '../../src/runtime/logger.ts';

// An in-memory Lease with the API server's optimistic concurrency (409 on a stale resourceVersion).
class MemoryLease implements LeaseStore {
  describe = 'test/lease';
  record: LeaseRecord | undefined;
  rv = 0;
  down = false;
  async get() {
    if (this.down) throw new Error('connection refused');
    return this.record ? { record: { ...this.record }, resourceVersion: String(this.rv) } : undefined;
  }
  async create(r: LeaseRecord) {
    if (this.down) throw new Error('connection refused');
    if (this.record) throw Object.assign(new Error('exists'), { code: 409 });
    this.record = { ...r };
    this.rv++;
  }
  async update(r: LeaseRecord, rv: string) {
    if (this.down) throw new Error('connection refused');
    if (rv !== String(this.rv)) throw Object.assign(new Error('conflict'), { code: 409 });
    this.record = { ...r };
    this.rv++;
  }
}

describe('LeaderElector', () => {
  let clock: ReturnType<typeof FakeTimers.install>;
  beforeEach(() => {
    clock = FakeTimers.install({ now: 1_000_000 });
  });
  afterEach(() => clock.uninstall());

  const elector = (store: LeaseStore, identity: string, events: string[]) =>
    new LeaderElector(store, {
      identity,
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      log: silentLogger(),
      onStartedLeading: () => events.push(`${identity} leads`),
      onStoppedLeading: () => events.push(`${identity} lost`),
    });

  it('elects exactly one of two candidates', async () => {
    const store = new MemoryLease();
    const events: string[] = [];
    const a = elector(store, 'a', events);
    const b = elector(store, 'b', events);
    a.start();
    b.start();
    await clock.tickAsync(30_000);
    expect(events).to.deep.equal(['a leads']);
    expect([a.isLeader, b.isLeader]).to.deep.equal([true, false]);
    expect(store.record!.holderIdentity).to.equal('a');
  });

  it('a standby takes over after the lease expires when the leader vanishes', async () => {
    const store = new MemoryLease();
    const events: string[] = [];
    // A leader that died without handing back its 15 s lease.
    await store.create({
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      renewTime: new Date().toISOString(),
      leaseTransitions: 0,
    });
    const b = elector(store, 'b', events);
    b.start();
    await clock.tickAsync(14_000);
    expect(b.isLeader).to.equal(false); // not yet expired by b's own clock
    await clock.tickAsync(4_000);
    expect(b.isLeader).to.equal(true);
    expect(store.record!.leaseTransitions).to.equal(1);
  });

  it('release hands over at once', async () => {
    const store = new MemoryLease();
    const events: string[] = [];
    const a = elector(store, 'a', events);
    const b = elector(store, 'b', events);
    a.start();
    await clock.tickAsync(10);
    b.start();
    await clock.tickAsync(5_000);
    await a.release();
    await clock.tickAsync(2_500); // about one retry period
    expect(b.isLeader).to.equal(true);
  });

  it('a leader that cannot renew stops before its lease can expire', async () => {
    const store = new MemoryLease();
    const events: string[] = [];
    const a = elector(store, 'a', events);
    a.start();
    await clock.tickAsync(10);
    const lastRenew = Date.now();
    store.down = true;
    await clock.tickAsync(12_000);
    expect(events).to.deep.equal(['a leads', 'a lost']);
    expect(a.isLeader).to.equal(false);
    // It gave up within the renew deadline (+ one retry period), well before 15 s.
    expect(Date.now() - lastRenew).to.be.lessThan(15_000);
  });

  it('checks the timing constraints', () => {
    expect(checkTimings({ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 })).to.equal(
      undefined,
    );
    expect(checkTimings({ leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 })).to.match(
      /lease duration/,
    );
    expect(checkTimings({ leaseDurationMs: 15_000, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 })).to.match(
      /renew deadline/,
    );
  });
});

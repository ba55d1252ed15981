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

/** A MemoryLease whose next GETs hang until the try's signal aborts them (a request the network lost). */
class HangingLease extends MemoryLease {
  hang = 0;
  gets = 0;
  aborted = 0;
  override async get(signal?: AbortSignal) {
    this.gets++;
    if (this.hang <= 0) return super.get();
    this.hang--;
    return new Promise<never>((_, reject) =>
      signal?.addEventListener('abort', () => {
        this.aborted++;
        reject(signal.reason);
      }),
    );
  }
}

/** A MemoryLease whose next GET answers `slowMs` late, with the record as it is when the answer leaves. */
class SlowLease extends MemoryLease {
  slowMs = 0;
  override async get() {
    const ms = this.slowMs;
    this.slowMs = 0;
    if (ms) await new Promise((r) => setTimeout(r, ms));
    return super.get();
  }
}

/** A MemoryLease whose next update is answered `slowMs` after the server wrote it. */
class SlowUpdateLease extends MemoryLease {
  slowMs = 0;
  override async update(r: LeaseRecord, rv: string) {
    const ms = this.slowMs;
    this.slowMs = 0;
    await super.update(r, rv);
    if (ms) await new Promise((res) => setTimeout(res, ms));
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

  /** Candidate "a" on `store`, leading. */
  const leader = async (store: LeaseStore) => {
    const events: string[] = [];
    const a = elector(store, 'a', events);
    a.start();
    await clock.tickAsync(10);
    return { a, events };
  };

  it('a leader that cannot renew stops before its lease can expire', async () => {
    const store = new MemoryLease();
    const { a, events } = await leader(store);
    const lastRenew = Date.now();
    store.down = true;
    await clock.tickAsync(12_000);
    expect(events).to.deep.equal(['a leads', 'a lost']);
    expect(a.isLeader).to.equal(false);
    // It gave up within the renew deadline (+ one retry period), well before 15 s.
    expect(Date.now() - lastRenew).to.be.lessThan(15_000);
  });

  it('the renew deadline counts from the start of the last successful try: a late answer does not stretch leadership', async () => {
    const store = new SlowUpdateLease();
    const events: string[] = [];
    const lostAt: number[] = [];
    const a = new LeaderElector(store, {
      identity: 'a',
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      log: silentLogger(),
      onStartedLeading: () => events.push('a leads'),
      onStoppedLeading: () => lostAt.push(Date.now()),
    });
    a.start();
    await clock.tickAsync(10);
    // The next renewal is written at once but answered 2 s later; then the server is gone.
    store.slowMs = 2_000;
    const rv = store.rv;
    while (store.rv === rv) await clock.tickAsync(1);
    const writtenAt = Date.now();
    await clock.tickAsync(2_000);
    store.down = true;
    await clock.tickAsync(15_000);
    expect(lostAt, 'lost once').to.have.length(1);
    // A standby saw the write at writtenAt at the earliest: it takes over at writtenAt + 15 s.
    const held = lostAt[0]! - writtenAt;
    expect(held, 'leadership ends within the renew deadline of the write').to.be.at.most(10_000);
    expect(held, 'and is noticed when the deadline passes, not a retry period later').to.be.at.least(9_990);
  });

  it('a leader that finds another holder in the Lease steps down at once, not at its renew deadline', async () => {
    const store = new MemoryLease();
    const { a, events } = await leader(store);
    // The Lease was deleted and a standby created it anew (kubectl delete lease, a reinstall).
    store.record = { holderIdentity: 'b', leaseDurationSeconds: 15, renewTime: new Date().toISOString() };
    store.rv++;
    await clock.tickAsync(2_500); // one retry period
    expect(events).to.deep.equal(['a leads', 'a lost']);
    expect(a.isLeader).to.equal(false);
    expect(a.writeBlocked()).to.equal('leadership ended');
  });

  it('a Lease deleted under its holder: the holder re-creates it at once, a standby waits out what it last saw', async () => {
    const store = new MemoryLease();
    const events: string[] = [];
    const a = elector(store, 'a', events);
    a.start();
    await clock.tickAsync(10);
    const b = elector(store, 'b', events);
    b.start();
    await clock.tickAsync(3_000); // b has seen a's record
    store.record = undefined; // deleted
    await clock.tickAsync(10_000);
    expect(events, 'a keeps leading; b never leads').to.deep.equal(['a leads']);
    expect(store.record!.holderIdentity).to.equal('a');
    // Deleted again and a dead: b takes over once a's last record has expired by b's clock.
    a.abandon();
    store.record = undefined;
    await clock.tickAsync(12_000); // b saw a's last renewal at most 2 s (a retry period) before
    expect(b.isLeader, 'not before the record it saw expires').to.equal(false);
    await clock.tickAsync(6_000);
    expect(b.isLeader).to.equal(true);
  });

  it('writeBlocked: nothing before leading and while leading; a reason once leadership has ended', async () => {
    const store = new MemoryLease();
    const events: string[] = [];
    await store.create({ holderIdentity: 'x', leaseDurationSeconds: 15, renewTime: new Date().toISOString() });
    const b = elector(store, 'b', events);
    b.start();
    await clock.tickAsync(5_000);
    expect(b.isLeader).to.equal(false);
    expect(b.writeBlocked(), 'a standby that never led').to.equal(undefined);
    await clock.tickAsync(15_000);
    expect(b.isLeader).to.equal(true);
    expect(b.writeBlocked()).to.equal(undefined);
    store.down = true;
    await clock.tickAsync(10_500);
    expect(events).to.deep.equal(['b leads', 'b lost']);
    expect(b.writeBlocked()).to.equal('leadership ended');
  });

  it('abandon stops renewing without touching the Lease (it expires for the others)', async () => {
    const store = new MemoryLease();
    const { a } = await leader(store);
    const before = { ...store.record };
    const rv = store.rv;
    a.abandon();
    await clock.tickAsync(10_000);
    expect(a.isLeader).to.equal(false);
    expect(store.rv, 'no write').to.equal(rv);
    expect(store.record).to.deep.equal(before);
  });

  it('a try that hangs is aborted after a quarter of the renew deadline: after two hung tries the third renews', async () => {
    const store = new HangingLease();
    const { a, events } = await leader(store);
    store.hang = 2;
    const gets = store.gets;
    await clock.tickAsync(12_000);
    expect(store.aborted, 'hung tries aborted').to.equal(2);
    expect(events).to.deep.equal(['a leads']);
    expect(a.isLeader).to.equal(true);
    expect(store.gets - gets, 'tries').to.be.at.least(3);
  });

  it('every try hangs: 4 tries, each aborted, fit in the renew deadline, then it stops leading', async () => {
    const store = new HangingLease();
    const { events } = await leader(store);
    const lastRenew = Date.now();
    store.hang = Infinity;
    await clock.tickAsync(10_500);
    expect(events).to.deep.equal(['a leads', 'a lost']);
    expect(store.aborted, 'tries aborted within the renew deadline').to.equal(4);
    expect(Date.now() - lastRenew).to.be.lessThan(15_000);
  });

  it("a standby stamps a record when its GET answers, not before: a slow GET does not shorten the holder's lease", async () => {
    // Unit-tested on a fake clock: on the real server, the slow GET this needs is cut short by the try timeout.
    const store = new SlowLease();
    const t0 = Date.now();
    await store.create({ holderIdentity: 'a', leaseDurationSeconds: 15, renewTime: new Date(t0).toISOString() });
    const events: string[] = [];
    const b = new LeaderElector(store, {
      identity: 'b',
      leaseDurationMs: 15_000,
      renewDeadlineMs: 12_000, // tries may take 3 s: the slow GET below is answered, not aborted
      retryPeriodMs: 2_000,
      log: silentLogger(),
      onStartedLeading: () => events.push(`b leads at ${Date.now() - t0}`),
      onStoppedLeading: () => events.push('b lost'),
    });
    // b's first GET takes 2.9 s; "a" renews 2.8 s in, while it is under way, and then dies.
    store.slowMs = 2_900;
    setTimeout(() => {
      store.record = { ...store.record, renewTime: new Date().toISOString() };
      store.rv++;
    }, 2_800);
    b.start();
    await clock.tickAsync(17_800);
    expect(events, 'a lease renewed at 2.8 s is valid until 17.8 s').to.deep.equal([]);
    await clock.tickAsync(5_000);
    expect(b.isLeader).to.equal(true);
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

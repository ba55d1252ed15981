import { expect } from 'chai';
import FakeTimers from '@sinonjs/fake-timers';
import { WorkQueue } from '../../src/runtime/queue.ts';
import { ItemExponentialLimiter, TokenBucket, defaultControllerRateLimiter } from '../../src/runtime/ratelimit.ts';
import { Controller, ObjectGone, TerminalError } from '../../src/runtime/controller.ts';
import { Metrics } from '../../src/runtime/metrics.ts';
import { silentLogger } from '../../src/runtime/logger.ts';

describe('WorkQueue', () => {
  let clock: ReturnType<typeof FakeTimers.install>;
  beforeEach(() => {
    clock = FakeTimers.install({ now: 1_000_000 });
  });
  afterEach(() => clock.uninstall());

  const queue = () => new WorkQueue(new ItemExponentialLimiter(5, 1_000_000));

  it('collapses repeated adds of a waiting key into one', async () => {
    const q = queue();
    q.add('a');
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.length).to.equal(2);
    expect(await q.get()).to.equal('a');
    expect(await q.get()).to.equal('b');
    expect(q.length).to.equal(0);
  });

  it('never hands one key to two workers; an add during processing comes back after done()', async () => {
    const q = queue();
    q.add('a');
    const first = await q.get();
    q.add('a'); // changed while being reconciled
    expect(q.length).to.equal(0);
    let second: string | undefined;
    void q.get().then((k) => {
      second = k;
    });
    await clock.tickAsync(10);
    expect(second).to.equal(undefined); // not while 'a' is processing
    q.done(first!);
    await clock.tickAsync(0);
    expect(second).to.equal('a');
  });

  it('hands keys out in the order they became ready', async () => {
    const q = queue();
    for (const k of ['c', 'a', 'b']) q.add(k);
    expect([await q.get(), await q.get(), await q.get()]).to.deep.equal(['c', 'a', 'b']);
  });

  it('delays addAfter keys, and the earlier of two times wins', async () => {
    const q = queue();
    q.addAfter('a', 1000);
    q.addAfter('a', 5000); // later: ignored
    q.addAfter('b', 500);
    await clock.tickAsync(499);
    expect(q.length).to.equal(0);
    await clock.tickAsync(1);
    expect(q.length).to.equal(1);
    expect(await q.get()).to.equal('b');
    await clock.tickAsync(500);
    expect(await q.get()).to.equal('a');
    q.done('a');
    q.done('b');
    await clock.tickAsync(10_000);
    expect(q.length).to.equal(0);
  });

  it('backs a failing key off exponentially until forget()', async () => {
    const q = queue();
    const readyAfter = async () => {
      q.addRateLimited('k');
      const start = Date.now();
      while (q.length === 0) await clock.tickAsync(1);
      const k = await q.get();
      q.done(k!);
      return Date.now() - start;
    };
    expect([await readyAfter(), await readyAfter(), await readyAfter(), await readyAfter()]).to.deep.equal([
      5, 10, 20, 40,
    ]);
    expect(q.retries('k')).to.equal(4);
    q.forget('k');
    expect(await readyAfter()).to.equal(5);
  });

  it('shutdown releases waiting workers with undefined', async () => {
    const q = queue();
    const waiting = q.get();
    q.shutdown();
    expect(await waiting).to.equal(undefined);
    q.add('x');
    expect(await q.get()).to.equal(undefined);
  });
});

// Due times are on the monotonic clock (performance.now()): fake-timers' setSystemTime() moves
// Date.now() alone, as NTP stepping the clock or a resumed VM does.
describe('WorkQueue and rate limiters across a wall-clock jump', () => {
  const HOUR = 3_600_000;
  let clock: ReturnType<typeof FakeTimers.install>;
  beforeEach(() => {
    clock = FakeTimers.install({ now: 10 * HOUR });
  });
  afterEach(() => clock.uninstall());
  const jump = (ms: number) => clock.setSystemTime(Date.now() + ms);

  it('a clock stepped back an hour does not delay a requeue', async () => {
    const q = new WorkQueue(new ItemExponentialLimiter());
    q.addAfter('a', 1000);
    jump(-HOUR);
    await clock.tickAsync(1000);
    expect(q.length).to.equal(1);
  });

  it('a clock stepped forward an hour fires no requeue early, nor a later one late', async () => {
    const q = new WorkQueue(new ItemExponentialLimiter());
    q.addAfter('a', 60_000);
    q.addAfter('b', 120_000);
    jump(HOUR);
    q.addAfter('c', 1000);
    await clock.tickAsync(1000);
    expect(q.length, 'c after 1 s').to.equal(1);
    await clock.tickAsync(59_000);
    expect(q.length, 'a after 60 s, b not yet').to.equal(2);
    await clock.tickAsync(60_000);
    expect(q.length).to.equal(3);
  });

  it('reports how long a key waited, whatever the wall clock did', async () => {
    const waited: number[] = [];
    const q = new WorkQueue(new ItemExponentialLimiter(), { onGet: (_k, ms) => waited.push(ms) });
    q.add('a');
    jump(-HOUR);
    await clock.tickAsync(250);
    await q.get();
    expect(waited).to.deep.equal([250]);
  });

  it('a token bucket does not drain when the clock steps back, nor fill when it steps forward', async () => {
    const b = new TokenBucket(10, 1);
    expect(b.reserve()).to.equal(0);
    jump(HOUR);
    expect(b.reserve(), 'no hour of tokens').to.equal(100);
    await clock.tickAsync(200);
    jump(-2 * HOUR);
    expect(b.reserve(), 'no negative refill').to.equal(0);
  });
});

describe('rate limiters', () => {
  it('per-item exponential: 5 ms doubling, capped at 1000 s', () => {
    const l = new ItemExponentialLimiter(5, 1_000_000);
    const waits = Array.from({ length: 30 }, () => l.when('x'));
    expect(waits.slice(0, 4)).to.deep.equal([5, 10, 20, 40]);
    expect(waits[17]).to.equal(5 * 2 ** 17); // 655 s
    expect(waits[18]).to.equal(1_000_000);
    expect(waits[29]).to.equal(1_000_000);
    expect(l.when('other')).to.equal(5); // per item
  });

  it('token bucket: burst at once, then qps', () => {
    let now = 0;
    const b = new TokenBucket(10, 3, () => now);
    expect([b.reserve(), b.reserve(), b.reserve()]).to.deep.equal([0, 0, 0]);
    expect(b.reserve()).to.equal(100); // one token per 100 ms at 10 qps
    expect(b.reserve()).to.equal(200);
    now = 1000; // refilled, capped at burst
    expect([b.reserve(), b.reserve(), b.reserve(), b.reserve()]).to.deep.equal([0, 0, 0, 100]);
  });

  it('the default controller limiter is the larger of per-item and overall bucket', () => {
    const l = defaultControllerRateLimiter({ qps: 10, burst: 2 });
    expect(l.when('a')).to.equal(5);
    expect(l.when('b')).to.equal(5);
    expect(l.when('c')).to.be.greaterThanOrEqual(99); // bucket exhausted: overall pace wins
  });

  it('token bucket refuses nonsense settings', () => {
    expect(() => new TokenBucket(0, 10)).to.throw(/qps > 0/);
  });
});

describe('Controller workers', () => {
  let clock: ReturnType<typeof FakeTimers.install>;
  beforeEach(() => {
    clock = FakeTimers.install({ now: 1_000_000 });
  });
  afterEach(() => clock.uninstall());

  function controller(reconcile: (key: string) => Promise<any>, workers = 3) {
    return new Controller(
      'test',
      { reconcile: (k) => reconcile(k) },
      {
        workers,
        limiter: new ItemExponentialLimiter(5, 1_000_000),
        log: silentLogger(),
        metrics: new Metrics(),
      },
    );
  }

  it('never reconciles one key concurrently, and reconciles it again if it changed meanwhile', async () => {
    let running = 0;
    let maxRunning = 0;
    let calls = 0;
    const c = controller(async () => {
      calls++;
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((r) => setTimeout(r, 100));
      running--;
    });
    c.start();
    c.enqueue('a');
    await clock.tickAsync(10);
    c.enqueue('a');
    c.enqueue('a'); // changes during the reconcile
    await clock.tickAsync(1000);
    expect(maxRunning).to.equal(1);
    expect(calls).to.equal(2);
    await c.stop(1000);
  });

  it('requeues after requeueAfterMs, backs off on errors, and gives up on TerminalError', async () => {
    const seen: Record<string, number[]> = { ok: [], err: [], term: [] };
    const c = controller(async (k) => {
      seen[k]!.push(Date.now() - 1_000_000);
      if (k === 'ok') return seen.ok!.length < 3 ? { requeueAfterMs: 1000 } : undefined;
      if (k === 'err') throw new Error('boom');
      throw new TerminalError('bad spec');
    });
    c.start();
    c.enqueue('ok');
    c.enqueue('err');
    c.enqueue('term');
    await clock.tickAsync(5000);
    expect(seen.ok).to.deep.equal([0, 1000, 2000]);
    expect(seen.err!.slice(0, 5)).to.deep.equal([0, 5, 15, 35, 75]); // 5, 10, 20, 40 ms apart
    expect(seen.term).to.deep.equal([0]);
    await c.stop(1000);
  });

  it('a 409 Conflict is retried without counting as an error', async () => {
    let n = 0;
    const metrics = new Metrics();
    const c = new Controller(
      'conflicts',
      {
        reconcile: async () => {
          if (n++ === 0) throw Object.assign(new Error('conflict'), { code: 409 });
        },
      },
      {
        workers: 1,
        limiter: new ItemExponentialLimiter(5, 1_000_000),
        log: silentLogger(),
        metrics,
      },
    );
    c.start();
    c.enqueue('x');
    await clock.tickAsync(100);
    expect(n).to.equal(2);
    const total = await metrics.reconcileTotal.get();
    const by = Object.fromEntries(total.values.map((v) => [v.labels.result, v.value]));
    expect(by).to.deep.equal({ conflict: 1, success: 1 });
    expect((await metrics.reconcileErrors.get()).values).to.deep.equal([]);
    await c.stop(1000);
  });

  it('an object deleted while reconciled (ObjectGone) is neither retried nor counted as an error', async () => {
    let n = 0;
    const metrics = new Metrics();
    const c = new Controller(
      'gone',
      {
        reconcile: async () => {
          n++;
          throw new ObjectGone('computeclusters x was deleted');
        },
      },
      { workers: 1, limiter: new ItemExponentialLimiter(5, 1_000_000), log: silentLogger(), metrics },
    );
    c.start();
    c.enqueue('x');
    await clock.tickAsync(1000);
    expect(n).to.equal(1);
    const total = await metrics.reconcileTotal.get();
    expect(Object.fromEntries(total.values.map((v) => [v.labels.result, v.value]))).to.deep.equal({ gone: 1 });
    expect((await metrics.reconcileErrors.get()).values).to.deep.equal([]);
    await c.stop(1000);
  });

  it('stop() lets a reconcile in flight finish, within the bound', async () => {
    let finished = false;
    const c = controller(async () => {
      await new Promise((r) => setTimeout(r, 500));
      finished = true;
    });
    c.start();
    c.enqueue('a');
    await clock.tickAsync(10);
    const stopped = c.stop(2000);
    await clock.tickAsync(600);
    expect(await stopped).to.equal(true);
    expect(finished).to.equal(true);
  });
});

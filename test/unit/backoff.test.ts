import { expect } from 'chai';
import FakeTimers from '@sinonjs/fake-timers';
import { Backoff } from '../../src/runtime/backoff.ts';

describe('Backoff (the informer retry backoff, as client-go reflector)', () => {
  /** A backoff on a clock the test moves, with the jitter draw `r` (0: none, 1: the most). */
  const backoff = (r = 0) => {
    const clock = { now: 0 };
    const b = new Backoff({
      initialMs: 800,
      maxMs: 30_000,
      resetAfterMs: 120_000,
      jitter: 1,
      now: () => clock.now,
      random: () => r,
    });
    /** The next wait, taken after it has passed (as the informer does). */
    const wait = () => {
      const ms = b.next();
      clock.now += ms;
      return ms;
    };
    return { b, clock, wait };
  };

  it('doubles from 800 ms up to 30 s', () => {
    const { wait } = backoff();
    expect(Array.from({ length: 8 }, wait)).to.deep.equal([800, 1600, 3200, 6400, 12_800, 25_600, 30_000, 30_000]);
  });

  it('jitters each wait between 1x and 2x its base', () => {
    expect(backoff(0.5).wait()).to.equal(1200);
    expect(backoff(0.999).wait()).to.be.within(1598, 1600);
  });

  it('is not reset by a success between failures: a watch failing soon after each LIST keeps backing off', () => {
    const { clock, wait } = backoff();
    const waits = Array.from({ length: 5 }, () => {
      clock.now += 50; // a LIST succeeded, then the watch failed 50 ms later
      return wait();
    });
    expect(waits).to.deep.equal([800, 1600, 3200, 6400, 12_800]);
  });

  it('starts again from 800 ms only after 2 minutes without a failure', () => {
    const { clock, wait } = backoff();
    wait();
    wait();
    wait();
    clock.now += 119_000;
    expect(wait(), 'a failure within 2 minutes of the last retry').to.equal(6400);
    clock.now += 120_001;
    expect(wait(), 'after 2 healthy minutes').to.equal(800);
    expect(wait()).to.equal(1600);
  });

  it('on its default clock, a wall-clock jump of an hour is not two minutes without a failure', () => {
    const clock = FakeTimers.install({ now: 1_000_000 });
    try {
      const b = new Backoff({ initialMs: 800, maxMs: 30_000, resetAfterMs: 120_000, jitter: 1, random: () => 0 });
      expect(b.next()).to.equal(800);
      clock.tick(800);
      clock.setSystemTime(Date.now() + 3_600_000);
      expect(b.next()).to.equal(1600);
    } finally {
      clock.uninstall();
    }
  });
});

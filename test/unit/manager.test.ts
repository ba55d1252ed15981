// The manager's start of the controllers on becoming the leader (src/runtime/manager.ts): caches
// synced before it led are listed again first, within --cache-sync-timeout, and nothing starts
// when leadership is lost or the operator stops meanwhile.
import { expect } from 'chai';
import type { Controller } from '../../src/runtime/controller.ts';
import type { ResyncResult, RunnableInformer } from '../../src/runtime/informer.ts';
import type { LeaderElector } from '../../src/runtime/leaderelection.ts';
import { silentLogger } from '../../src/runtime/logger.ts';
import { Manager } from '../../src/runtime/manager.ts';
import { Metrics } from '../../src/runtime/metrics.ts';

/** An informer whose resync resolves when the test says. */
class FakeInformer implements RunnableInformer {
  resyncs = 0;
  private answer: ((r: ResyncResult) => void) | undefined;
  constructor(
    readonly resource: string,
    public hasSynced: boolean,
    public listStartedAt: number | undefined,
  ) {}
  start(): void {}
  async stop(): Promise<void> {}
  resync(): Promise<ResyncResult> {
    this.resyncs++;
    return new Promise((r) => (this.answer = r));
  }
  listed(): void {
    this.listStartedAt = Date.now();
    this.answer?.({ listed: true, objects: 1, added: 0, updated: 0, deleted: 0 });
  }
}

function setup(o: { elector: boolean; informers: FakeInformer[]; timeoutMs?: number }) {
  const started: string[] = [];
  let notReady = 0;
  const controller = { name: 'c', start: () => started.push('c'), stop: async () => true } as unknown as Controller;
  const manager = new Manager({
    log: silentLogger(),
    metrics: new Metrics(),
    informers: o.informers,
    controllers: [controller],
    elector: o.elector ? ({} as LeaderElector) : undefined,
    healthAddr: { host: '127.0.0.1', port: 0 },
    metricsAddr: { host: '127.0.0.1', port: 0 },
    gracefulShutdownMs: 1000,
    cacheSyncTimeoutMs: o.timeoutMs ?? 60_000,
    cachesNotReady: () => notReady++,
    fenceWrites: () => {},
  });
  return { manager, started, notReady: () => notReady };
}
const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));

describe('Manager: starting the controllers on becoming the leader', () => {
  it('lists again the caches synced before it led, and starts the workers only once they are listed', async () => {
    const pods = new FakeInformer('pods', true, Date.now() - 60_000);
    const { manager, started } = setup({ elector: true, informers: [pods] });
    const starting = manager.startControllers();
    await tick();
    expect([pods.resyncs, started.length]).to.deep.equal([1, 0]);
    pods.listed();
    await starting;
    expect(started).to.deep.equal(['c']);
  });

  it('a cache first listed after it led is not listed again', async () => {
    const pods = new FakeInformer('pods', false, undefined);
    const { manager, started } = setup({ elector: true, informers: [pods] });
    const starting = manager.startControllers();
    await tick();
    pods.hasSynced = true;
    pods.listStartedAt = Date.now();
    await starting;
    expect([pods.resyncs, started]).to.deep.equal([0, ['c']]);
  });

  it('without leader election (one replica), nothing is listed again', async () => {
    const pods = new FakeInformer('pods', true, Date.now() - 60_000);
    const { manager, started } = setup({ elector: false, informers: [pods] });
    await manager.startControllers();
    expect([pods.resyncs, started]).to.deep.equal([0, ['c']]);
  });

  it('leadership lost while listing: the workers never start', async () => {
    const pods = new FakeInformer('pods', true, Date.now() - 60_000);
    const { manager, started } = setup({ elector: true, informers: [pods] });
    const starting = manager.startControllers();
    await tick();
    manager.leadershipLost();
    pods.listed();
    await starting;
    expect(started).to.deep.equal([]);
  });

  it('caches not listed within the timeout: gives up (the caller releases the Lease and exits), nothing starts', async () => {
    const pods = new FakeInformer('pods', true, Date.now() - 60_000);
    const { manager, started, notReady } = setup({ elector: true, informers: [pods], timeoutMs: 100 });
    await manager.startControllers();
    expect([notReady(), started.length]).to.deep.equal([1, 0]);
    pods.listed(); // too late
    await tick();
    expect(started.length).to.equal(0);
  });
});

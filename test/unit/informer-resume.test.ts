// The informer's resume point after a failed watch: the last event applied, not where the
// failed watch started (found by the soak: a watch cut after minutes was resumed from its start,
// the server replayed what the cache had applied, and the cache went back in time meanwhile).
import { expect } from 'chai';
import { Informer, type ListWatchSource, type WatchEvent } from '../../src/runtime/informer.ts';
import { silentLogger } from '../../src/runtime/logger.ts';

interface Obj {
  metadata: { name: string; namespace: string; resourceVersion: string };
  v: number;
}
const obj = (rv: number): Obj => ({ metadata: { name: 'a', namespace: 'ns', resourceVersion: String(rv) }, v: rv });

/**
 * Runs an informer whose first watch delivers `first` and ends with `end`, until it watches a
 * second time; returns the resourceVersions it watched from.
 */
async function twoWatches(
  first: WatchEvent<Obj>[],
  end: Error | undefined,
  hooks?: { restarted?: (resource: string) => void },
): Promise<string[]> {
  const watchedFrom: string[] = [];
  const source: ListWatchSource<Obj> = {
    resource: 'objs',
    list: async () => ({ items: [obj(10)], resourceVersion: '10' }),
    watch: async (rv, onEvent, onDone) => {
      watchedFrom.push(rv);
      if (watchedFrom.length === 1)
        setTimeout(() => {
          for (const e of first) onEvent(e);
          onDone(end);
        }, 5);
      const aborted = Object.assign(new Error('aborted'), { name: 'AbortError' });
      return { abort: () => onDone(aborted) };
    },
  };
  const inf = new Informer(source, silentLogger(), { minBackoffMs: 1, maxBackoffMs: 2, hooks });
  inf.start();
  const deadline = Date.now() + 5000;
  while (watchedFrom.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  await inf.stop();
  return watchedFrom;
}

describe('Informer resume after a failed watch', () => {
  const cases: { name: string; first: WatchEvent<Obj>[]; end: 'error' | 'healthy'; resumeAt: string }[] = [
    {
      name: 'broken after two events',
      first: [
        { type: 'MODIFIED', object: obj(11) },
        { type: 'MODIFIED', object: obj(12) },
      ],
      end: 'error',
      resumeAt: '12',
    },
    {
      name: 'broken after a bookmark',
      first: [{ type: 'BOOKMARK', object: { metadata: { resourceVersion: '15' } } as any }],
      end: 'error',
      resumeAt: '15',
    },
    { name: 'broken before any event', first: [], end: 'error', resumeAt: '10' },
    { name: 'closed healthily', first: [{ type: 'MODIFIED', object: obj(13) }], end: 'healthy', resumeAt: '13' },
  ];
  for (const c of cases)
    it(`${c.name}: watches again from ${c.resumeAt}`, async () => {
      // A healthy close needs time or an event to count as one (SHORT_WATCH_MS).
      const watchedFrom = await twoWatches(c.first, c.end === 'error' ? new Error('aborted') : undefined);
      expect(watchedFrom.slice(0, 2)).to.deep.equal(['10', c.resumeAt]);
    });
});

describe('Informer: a watch silent past its idle timeout', () => {
  it('is watched again from the last event applied, not counted as a failure (a quiet resource looks the same)', async () => {
    const restarts: string[] = [];
    const timeout = Object.assign(new Error('no data for 180000 ms'), { name: 'TimeoutError' });
    const bookmark = { type: 'BOOKMARK', object: { metadata: { resourceVersion: '15' } } } as WatchEvent<Obj>;
    const watchedFrom = await twoWatches([{ type: 'MODIFIED', object: obj(14) }, bookmark], timeout, {
      restarted: (r) => restarts.push(r),
    });
    expect(watchedFrom.slice(0, 2)).to.deep.equal(['10', '15']);
    expect(restarts).to.deep.equal([]);
  });
});

describe('Informer.resync: a new leader lists again whatever its watch missed', () => {
  /** A source whose watch never delivers (held, as a stuck stream is) and whose LISTs are gated by the test. */
  function heldSource() {
    const s = {
      lists: 0,
      current: 10,
      watchedFrom: [] as string[],
      gate: undefined as Promise<void> | undefined,
      /** Holds the watch's handle back (a watch still being opened). */
      watchGate: undefined as Promise<void> | undefined,
      /** LISTs to fail before answering. */
      failLists: 0,
      source: undefined as unknown as ListWatchSource<Obj>,
    };
    s.source = {
      resource: 'objs',
      list: async ({ signal }) => {
        s.lists++;
        const rv = s.current; // what the server holds when the LIST begins
        // A LIST gives up when its signal aborts (stop(), its timeout), as the real one does.
        const aborted = new Promise<never>((_, reject) =>
          signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true }),
        );
        await Promise.race([s.gate, aborted]);
        if (s.failLists > 0 && s.failLists--) throw new Error('503 ServiceUnavailable');
        return { items: [obj(rv)], resourceVersion: String(rv) };
      },
      watch: async (rv, _onEvent, onDone) => {
        s.watchedFrom.push(rv);
        await s.watchGate;
        // Aborting a watch ends it quietly and at once, within abort(), as transport.ts does.
        return { abort: () => onDone(undefined) };
      },
    };
    return s;
  }
  /** Starts an informer on the source; the failures it counted. */
  const run = (s: ReturnType<typeof heldSource>, backoffMs = 1) => {
    const restarts: string[] = [];
    const inf = new Informer(s.source, silentLogger(), {
      minBackoffMs: backoffMs,
      maxBackoffMs: backoffMs * 2,
      hooks: { restarted: (r) => restarts.push(r) },
    });
    inf.start();
    return { inf, restarts };
  };
  const until = async (cond: () => boolean) => {
    const deadline = Date.now() + 5000;
    while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    expect(cond(), 'condition reached in time').to.equal(true);
  };

  it('lists again, applies what the stuck watch missed, and watches from the new list without counting a failure', async () => {
    const s = heldSource();
    const { inf, restarts } = run(s);
    await until(() => s.watchedFrom.length === 1);
    s.current = 20; // written while the watch is stuck
    expect(await inf.resync()).to.deep.equal({ listed: true, objects: 1, added: 0, updated: 1, deleted: 0 });
    expect(inf.get('ns/a')?.v).to.equal(20);
    await until(() => s.watchedFrom.length === 2);
    expect(s.watchedFrom).to.deep.equal(['10', '20']);
    expect(s.lists).to.equal(2);
    expect(restarts).to.deep.equal([]);
    await inf.stop();
  });

  it('called while a LIST is in flight, waits for one that begins after the call', async () => {
    const s = heldSource();
    let open!: () => void;
    s.gate = new Promise((r) => (open = r));
    const { inf } = run(s);
    await until(() => s.lists === 1); // the first LIST began at 10 and is not answered yet
    s.current = 30;
    const resynced = inf.resync();
    s.gate = undefined;
    open();
    expect((await resynced).listed).to.equal(true);
    expect(s.lists, 'a second LIST, begun after the call').to.equal(2);
    expect(inf.get('ns/a')?.v).to.equal(30);
    await inf.stop();
  });

  it('called while the watch is still being opened: that watch is given up when it opens, and a LIST follows', async () => {
    const s = heldSource();
    let open!: () => void;
    s.watchGate = new Promise((r) => (open = r));
    const { inf, restarts } = run(s);
    await until(() => s.watchedFrom.length === 1); // asked for, its handle not returned yet
    s.current = 40;
    const resynced = inf.resync();
    s.watchGate = undefined;
    open();
    expect(await resynced).to.deep.equal({ listed: true, objects: 1, added: 0, updated: 1, deleted: 0 });
    expect(inf.get('ns/a')?.v).to.equal(40);
    expect(restarts).to.deep.equal([]);
    await inf.stop();
  });

  it('called during the backoff after a failed LIST: tried at once, not after the backoff', async () => {
    const s = heldSource();
    s.failLists = 1;
    const { inf } = run(s, 60_000);
    await until(() => s.lists === 1 && s.failLists === 0); // failed; now waiting up to a minute
    const t0 = Date.now();
    expect((await inf.resync()).listed).to.equal(true);
    expect(Date.now() - t0, 'ms to the LIST').to.be.lessThan(1000);
    await inf.stop();
  });

  it('whose LIST fails: waits through the backoff for one that succeeds', async () => {
    const s = heldSource();
    const { inf } = run(s);
    await until(() => s.watchedFrom.length === 1);
    s.failLists = 2;
    s.current = 50;
    const r = await inf.resync();
    expect(s.lists, 'the first LIST, two failed ones, the one that answered').to.equal(4);
    expect(r).to.deep.equal({ listed: true, objects: 1, added: 0, updated: 1, deleted: 0 });
    await inf.stop();
  });

  it('resolves on stop, so that a leader shutting down does not hang on it', async () => {
    const s = heldSource();
    s.gate = new Promise(() => {}); // no LIST is ever answered
    const { inf } = run(s);
    const resynced = inf.resync();
    await inf.stop();
    expect(await resynced).to.deep.equal({ listed: false });
  });
});

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

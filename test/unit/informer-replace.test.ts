// An object deleted and created again under the same name while the informer's watch was down:
// the relist finds another uid under the key. Handlers must see the old one's delete and the new
// one's add (as client-go's DeltaFIFO replace gives), not an update from one object to another:
// expectations lower a create on an add and a delete on a delete (review of issue 11).
import { expect } from 'chai';
import { Informer, type ListWatchSource } from '../../src/runtime/informer.ts';
import { silentLogger } from '../../src/runtime/logger.ts';

interface Obj {
  metadata: { name: string; namespace: string; resourceVersion: string; uid: string };
}
const obj = (uid: string, rv: number): Obj => ({
  metadata: { name: 'a', namespace: 'ns', resourceVersion: String(rv), uid },
});

describe('Informer relist of a name now held by another object', () => {
  const cases: { name: string; second: Obj; want: string[] }[] = [
    {
      name: 'another uid: delete of the old, add of the new',
      second: obj('u2', 20),
      want: ['add u1', 'delete u1', 'add u2'],
    },
    { name: 'the same uid, changed: an update', second: obj('u1', 20), want: ['add u1', 'update u1->u1'] },
  ];
  for (const c of cases)
    it(c.name, async () => {
      let lists = 0;
      const source: ListWatchSource<Obj> = {
        resource: 'objs',
        list: async () =>
          lists++ === 0
            ? { items: [obj('u1', 10)], resourceVersion: '10' }
            : { items: [c.second], resourceVersion: '20' },
        watch: async (_rv, _onEvent, onDone) => {
          // The first watch is expired at once (410): the informer lists again.
          if (lists === 1) setTimeout(() => onDone(Object.assign(new Error('expired'), { code: 410 })), 5);
          const aborted = Object.assign(new Error('aborted'), { name: 'AbortError' });
          return { abort: () => onDone(aborted) };
        },
      };
      const seen: string[] = [];
      const inf = new Informer(source, silentLogger(), { minBackoffMs: 1, maxBackoffMs: 2 });
      inf.on((e) =>
        seen.push(
          e.type === 'update'
            ? `update ${e.old.metadata.uid}->${e.obj.metadata.uid}`
            : `${e.type} ${e.obj.metadata.uid}`,
        ),
      );
      inf.start();
      const deadline = Date.now() + 5000;
      while (lists < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 20));
      await inf.stop();
      expect(seen).to.deep.equal(c.want);
    });
});

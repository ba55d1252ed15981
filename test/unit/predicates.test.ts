import { expect } from 'chai';
import type { InformerEvent } from '../../src/runtime/informer.ts';
import { nameOf, namespacedKey, namespaceOf, objectKey, splitKey, uidOf } from '../../src/runtime/keys.ts';
import {
  annotationsChanged,
  anyOf,
  changedBy,
  conditionStatus,
  deletionStarted,
  filterUpdates,
  generationChanged,
  labelsChanged,
  nodeReady,
  nodeReadyChanged,
} from '../../src/runtime/predicates.ts';

const obj = (metadata: Record<string, unknown>, status?: unknown): any => ({ metadata, status });
const node = (ready?: string) => obj({ name: 'n1' }, { conditions: ready ? [{ type: 'Ready', status: ready }] : [] });

describe('keys', () => {
  it('names objects as client-go does, and splits the keys back', () => {
    expect(namespacedKey('ns', 'a')).to.equal('ns/a');
    expect(namespacedKey('', 'node-1')).to.equal('node-1');
    expect(objectKey(obj({ namespace: 'ns', name: 'a' }))).to.equal('ns/a');
    expect(objectKey(obj({ name: 'node-1' }))).to.equal('node-1');
    expect(splitKey('ns/a')).to.deep.equal({ namespace: 'ns', name: 'a' });
    expect(splitKey('node-1')).to.deep.equal({ namespace: '', name: 'node-1' });
  });

  it('reads names and uids without non-null assertions', () => {
    const o = obj({ namespace: 'ns', name: 'a', uid: 'u1' });
    expect([nameOf(o), namespaceOf(o), uidOf(o)]).to.deep.equal(['a', 'ns', 'u1']);
    expect([nameOf({}), namespaceOf({}), uidOf({})]).to.deep.equal(['', '', '']);
  });
});

describe('watch predicates', () => {
  const update = (old: any, now: any) => ({ old, obj: now });

  it('see the metadata changes a status write does not make', () => {
    const base = obj({ generation: 1, labels: { a: '1' }, annotations: { x: 'y' } }, { phase: 'Running' });
    const statusWrite = obj({ generation: 1, labels: { a: '1' }, annotations: { x: 'y' } }, { phase: 'Failed' });
    const spec = anyOf(generationChanged, labelsChanged, annotationsChanged, deletionStarted);
    expect(spec(update(base, statusWrite))).to.equal(false);
    expect(generationChanged(update(base, obj({ ...base.metadata, generation: 2 })))).to.equal(true);
    expect(labelsChanged(update(base, obj({ ...base.metadata, labels: { a: '2' } })))).to.equal(true);
    expect(annotationsChanged(update(base, obj({ ...base.metadata, annotations: {} })))).to.equal(true);
    expect(
      deletionStarted(update(base, obj({ ...base.metadata, deletionTimestamp: '2025-01-01T00:00:00Z' }))),
    ).to.equal(true);
  });

  it('read a node Ready condition once', () => {
    expect(nodeReady(node('True'))).to.equal('True');
    expect(nodeReady(node())).to.equal(undefined);
    expect(conditionStatus([{ type: 'Ready', status: 'False' }], 'Ready')).to.equal('False');
    expect(nodeReadyChanged(update(node('True'), node('True')))).to.equal(false);
    expect(nodeReadyChanged(update(node('True'), node('Unknown')))).to.equal(true);
    expect(nodeReadyChanged(update(node('True'), node()))).to.equal(true);
  });

  it('changedBy compares what the function reads', () => {
    const phase = changedBy((o: any) => [o.status?.phase]);
    expect(phase(update(obj({}, { phase: 'A' }), obj({ x: 1 }, { phase: 'A' })))).to.equal(false);
    expect(phase(update(obj({}, { phase: 'A' }), obj({}, { phase: 'B' })))).to.equal(true);
  });

  it('filterUpdates passes every add and delete, and the updates the predicate accepts', () => {
    const seen: string[] = [];
    const handler = filterUpdates(nodeReadyChanged, (e: InformerEvent<any>) => seen.push(e.type));
    handler({ type: 'add', obj: node('True') });
    handler({ type: 'update', old: node('True'), obj: node('True') });
    handler({ type: 'update', old: node('True'), obj: node('False') });
    handler({ type: 'delete', obj: node('False') });
    expect(seen).to.deep.equal(['add', 'update', 'delete']);
  });
});

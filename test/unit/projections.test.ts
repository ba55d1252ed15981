// What the caches keep of each object (src/kube/projections.ts): every field a controller
// reads, and none of the bulk (managedFields, containers, node images, last-applied copies).
import { expect } from 'chai';
import type { V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import { projectCustom, projectNode, projectPod, projectService } from '../../src/kube/projections.ts';

const managedFields = [{ manager: 'kubectl', operation: 'Update', fieldsV1: { 'f:spec': {} } }];
const lastApplied = { 'kubectl.kubernetes.io/last-applied-configuration': '{"a":"very long copy"}' };
const metadata = {
  name: 'p',
  namespace: 'ns',
  uid: 'u1',
  resourceVersion: '7',
  creationTimestamp: '2026-01-01T00:00:00Z' as unknown as Date,
  deletionTimestamp: '2026-01-01T00:01:00Z' as unknown as Date,
  labels: { 'compute.gaffer.dev/role': 'worker' },
  ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'x', uid: 'ux', controller: true }],
  managedFields,
};

const pod: V1Pod = {
  metadata: {
    ...metadata,
    annotations: { 'controller.kubernetes.io/pod-deletion-cost': '5', other: 'x', ...lastApplied },
  },
  spec: {
    nodeName: 'n1',
    containers: [{ name: 'w', image: 'img', env: [{ name: 'GAFFER_ROLE', value: 'worker' }] }],
    volumes: [{ name: 'v', emptyDir: {} }],
  },
  status: {
    phase: 'Running',
    reason: 'R',
    message: 'M',
    startTime: '2026-01-01T00:00:05Z' as unknown as Date,
    podIP: '10.0.0.1',
    conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: 't' as unknown as Date }],
    containerStatuses: [
      {
        name: 'w',
        image: 'img',
        imageID: 'sha',
        ready: true,
        restartCount: 3,
        state: { terminated: { exitCode: 2, reason: 'Error', message: 'boom', containerID: 'c' } },
        lastState: {
          terminated: {
            exitCode: 1,
            reason: 'Error',
            startedAt: '2026-01-01T00:00:06Z' as unknown as Date,
            finishedAt: '2026-01-01T00:00:07Z' as unknown as Date,
            containerID: 'c0',
          },
        },
      },
      {
        name: 'sidecar',
        image: 'img',
        imageID: 'sha',
        ready: true,
        restartCount: 0,
        state: { running: { startedAt: '2026-01-01T00:00:08Z' as unknown as Date } },
      },
    ],
  },
};

describe('cache projections', () => {
  const p = projectPod(['controller.kubernetes.io/pod-deletion-cost'])(pod);
  const cases: { name: string; got: unknown; want: unknown }[] = [
    {
      name: 'pod identity, labels, owners and lifecycle',
      got: { ...p.metadata },
      want: {
        ...metadata,
        managedFields: undefined,
        annotations: { 'controller.kubernetes.io/pod-deletion-cost': '5' },
      },
    },
    { name: 'pod node, and no containers or volumes', got: p.spec, want: { nodeName: 'n1', containers: [] } },
    {
      name: 'pod phase, reason, message, start',
      got: [p.status?.phase, p.status?.reason, p.status?.message, p.status?.startTime, p.status?.podIP],
      want: ['Running', 'R', 'M', '2026-01-01T00:00:05Z', undefined],
    },
    {
      name: 'pod conditions',
      got: p.status?.conditions,
      want: [{ type: 'Ready', status: 'True', reason: undefined, message: undefined, lastTransitionTime: 't' }],
    },
    {
      name: 'container restarts and when, readiness and how it ended',
      got: p.status?.containerStatuses,
      want: [
        {
          name: 'w',
          image: '',
          imageID: '',
          ready: true,
          restartCount: 3,
          state: { terminated: { exitCode: 2, reason: 'Error', message: 'boom' } },
          lastState: { terminated: { exitCode: 1, finishedAt: '2026-01-01T00:00:07Z' } },
        },
        {
          name: 'sidecar',
          image: '',
          imageID: '',
          ready: true,
          restartCount: 0,
          state: { running: { startedAt: '2026-01-01T00:00:08Z' } },
        },
      ],
    },
  ];
  for (const c of cases)
    it(`keeps ${c.name}`, () =>
      expect(JSON.parse(JSON.stringify(c.got))).to.deep.equal(JSON.parse(JSON.stringify(c.want))));

  it('keeps a node name and its Ready condition only', () => {
    const n: V1Node = {
      metadata: { name: 'n1', managedFields },
      status: {
        conditions: [
          { type: 'MemoryPressure', status: 'False' },
          { type: 'Ready', status: 'False', lastTransitionTime: 't' as unknown as Date },
        ],
        images: [{ names: ['a'], sizeBytes: 1 }],
      },
    };
    expect(JSON.parse(JSON.stringify(projectNode(n)))).to.deep.equal({
      metadata: { name: 'n1' },
      status: { conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: 't' }] },
    });
  });
  it('keeps a Service spec and metadata, not its status or last-applied copy', () => {
    const s: V1Service = {
      metadata: { name: 's', labels: { a: 'b' }, annotations: { ...lastApplied, keep: 'me' }, managedFields },
      spec: { type: 'ClusterIP', ports: [{ port: 1 }], selector: { a: 'b' } },
      status: { loadBalancer: {} },
    };
    expect(JSON.parse(JSON.stringify(projectService(s)))).to.deep.equal({
      metadata: { name: 's', labels: { a: 'b' }, annotations: { keep: 'me' } },
      spec: { type: 'ClusterIP', ports: [{ port: 1 }], selector: { a: 'b' } },
    });
  });
  it('keeps a custom resource whole but for managedFields and the last-applied copy', () => {
    const o = {
      metadata: { name: 'c', finalizers: ['f'], annotations: { ...lastApplied, keep: 'me' }, managedFields },
      spec: { x: 1 },
      status: { y: 2 },
    };
    expect(projectCustom(o)).to.deep.equal({
      metadata: { name: 'c', finalizers: ['f'], annotations: { keep: 'me' } },
      spec: { x: 1 },
      status: { y: 2 },
    });
  });
});

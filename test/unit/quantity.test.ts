// Resource quantities, summed exactly for a gang's minResources (builders/quantity.ts).
import { expect } from 'chai';
import { formatQuantity, parseQuantity, podRequests, resourceList } from '../../src/builders/quantity.ts';

describe('resource quantities', () => {
  const parsed: [string, bigint | undefined][] = [
    ['1', 1_000_000_000n],
    ['500m', 500_000_000n],
    ['1.5', 1_500_000_000n],
    ['.5', 500_000_000n],
    ['2Gi', 2n * 2n ** 30n * 1_000_000_000n],
    ['1.5Ki', 1536n * 1_000_000_000n],
    ['3k', 3000n * 1_000_000_000n],
    ['1e3', 1000n * 1_000_000_000n],
    ['1E-3', 1_000_000n],
    ['7n', 7n],
    ['0.1n', 1n], // finer than a nano-unit: rounded up
    ['-1', -1_000_000_000n],
    ['1Gb', undefined],
    // Beyond what Kubernetes keeps (int64), and an exponent that would hold the event loop.
    ['1e900000000', undefined],
    ['9223372036854775808', undefined],
    ['9223372036854775807', 9223372036854775807n * 1_000_000_000n],
    ['', undefined],
    ['abc', undefined],
  ];
  for (const [q, want] of parsed) it(`parses ${JSON.stringify(q)}`, () => expect(parseQuantity(q)).to.equal(want));

  const formatted: [bigint, string][] = [
    [3_000_000_000n, '3'],
    [1_500_000_000n, '1500m'],
    [1n, '1n'],
    [2n * 2n ** 30n * 1_000_000_000n, '2147483648'],
  ];
  for (const [n, want] of formatted) it(`formats ${n} as ${want}`, () => expect(formatQuantity(n)).to.equal(want));

  const pods: { name: string; spec: any; want: Record<string, string> }[] = [
    {
      name: 'containers are summed; a limit alone is the request',
      spec: {
        containers: [
          { name: 'a', resources: { requests: { cpu: '500m', memory: '1Gi' } } },
          { name: 'b', resources: { limits: { cpu: '1', 'nvidia.com/gpu': '1' } } },
        ],
      },
      want: { cpu: '1500m', memory: '1073741824', 'nvidia.com/gpu': '1' },
    },
    {
      name: 'an init container larger than the containers sets the peak',
      spec: {
        initContainers: [{ name: 'i', resources: { requests: { cpu: '2' } } }],
        containers: [{ name: 'a', resources: { requests: { cpu: '1', memory: '1Gi' } } }],
      },
      want: { cpu: '2', memory: '1073741824' },
    },
    {
      name: 'a sidecar (restartPolicy Always) runs beside the containers and the init containers after it',
      spec: {
        initContainers: [
          { name: 's', restartPolicy: 'Always', resources: { requests: { cpu: '500m' } } },
          { name: 'i', resources: { requests: { cpu: '2' } } },
        ],
        containers: [{ name: 'a', resources: { requests: { cpu: '1' } } }],
      },
      want: { cpu: '2500m' },
    },
    {
      name: 'the pod overhead is added',
      spec: { overhead: { cpu: '100m' }, containers: [{ name: 'a', resources: { requests: { cpu: '1' } } }] },
      want: { cpu: '1100m' },
    },
    { name: 'no requests: nothing', spec: { containers: [{ name: 'a' }] }, want: {} },
    {
      name: "pod-level resources are the pod's for what they name",
      spec: {
        resources: { requests: { cpu: '4' } },
        containers: [{ name: 'a', resources: { requests: { cpu: '1', memory: '1Gi' } } }],
      },
      want: { cpu: '4', memory: '1073741824' },
    },
  ];
  for (const t of pods)
    it(`pod requests: ${t.name}`, () => expect(resourceList(podRequests(t.spec))).to.deep.equal(t.want));
});

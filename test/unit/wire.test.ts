import { expect } from 'chai';
import { LineSplitter, formatMicroTime, joinPath, queryString, resourcePath } from '../../src/kube/wire.ts';

describe('wire format', () => {
  describe('formatMicroTime', () => {
    const cases: [string, Date | string | number, string][] = [
      ['a Date', new Date('2026-11-26T07:00:00.123Z'), '2026-11-26T07:00:00.123000Z'],
      ['whole seconds', new Date('2026-11-26T07:00:00Z'), '2026-11-26T07:00:00.000000Z'],
      ['an ISO string', '2026-11-26T07:00:00.5Z', '2026-11-26T07:00:00.500000Z'],
      ['a string with an offset', '2026-11-26T09:00:00.001+02:00', '2026-11-26T07:00:00.001000Z'],
      [
        'a MicroTime from the server (microseconds beyond ms are dropped)',
        '2026-11-26T07:00:00.123456Z',
        '2026-11-26T07:00:00.123000Z',
      ],
      ['epoch milliseconds', 0, '1970-01-01T00:00:00.000000Z'],
    ];
    for (const [what, input, want] of cases) it(what, () => expect(formatMicroTime(input)).to.equal(want));
    it('now by default, in the MicroTime shape', () =>
      expect(formatMicroTime()).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/));
    it('refuses what is not a time', () => expect(() => formatMicroTime('soon')).to.throw('not a time: soon'));
  });

  describe('queryString', () => {
    const cases: [string, Parameters<typeof queryString>[0], string][] = [
      ['nothing', undefined, ''],
      ['only undefined values', { a: undefined }, ''],
      ['values in order, undefined left out', { limit: 500, continue: undefined, watch: 1 }, '?limit=500&watch=1'],
      ['booleans', { force: true, allowWatchBookmarks: false }, '?force=true&allowWatchBookmarks=false'],
      [
        'selectors and continue tokens escaped',
        { labelSelector: 'app.kubernetes.io/managed-by=gaffer,a in (x,y)', continue: 'eyJ2Ijo+/=' },
        '?labelSelector=app.kubernetes.io%2Fmanaged-by%3Dgaffer%2Ca%20in%20(x%2Cy)&continue=eyJ2Ijo%2B%2F%3D',
      ],
    ];
    for (const [what, q, want] of cases) it(what, () => expect(queryString(q)).to.equal(want));
  });

  describe('resourcePath', () => {
    const cases: [string, Parameters<typeof resourcePath>[0], string][] = [
      ['core, all namespaces', { group: '', version: 'v1', plural: 'pods' }, '/api/v1/pods'],
      [
        'core, one namespace',
        { group: '', version: 'v1', plural: 'pods', namespace: 'ns' },
        '/api/v1/namespaces/ns/pods',
      ],
      [
        'core, one object',
        { group: '', version: 'v1', plural: 'services', namespace: 'ns', name: 'c-master' },
        '/api/v1/namespaces/ns/services/c-master',
      ],
      ['cluster-scoped', { group: '', version: 'v1', plural: 'nodes' }, '/api/v1/nodes'],
      [
        'a group',
        { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespace: 'gaffer-system', name: 'gaffer' },
        '/apis/coordination.k8s.io/v1/namespaces/gaffer-system/leases/gaffer',
      ],
      [
        'a subresource',
        {
          group: 'compute.gaffer.dev',
          version: 'v1alpha1',
          plural: 'computeclusters',
          namespace: 'ns',
          name: 'c',
          subresource: 'status',
        },
        '/apis/compute.gaffer.dev/v1alpha1/namespaces/ns/computeclusters/c/status',
      ],
      [
        'names escaped',
        { group: '', version: 'v1', plural: 'pods', namespace: 'ns', name: 'a/b?c' },
        '/api/v1/namespaces/ns/pods/a%2Fb%3Fc',
      ],
    ];
    for (const [what, r, want] of cases) it(what, () => expect(resourcePath(r)).to.equal(want));
  });

  describe('joinPath', () => {
    const cases: [string, string, string][] = [
      ['/', '/api/v1/pods', '/api/v1/pods'],
      ['', '/api/v1/pods', '/api/v1/pods'],
      ['/k8s/clusters/c-1', '/api/v1/pods', '/k8s/clusters/c-1/api/v1/pods'],
      ['/k8s/clusters/c-1/', '/api/v1/pods', '/k8s/clusters/c-1/api/v1/pods'],
    ];
    for (const [prefix, path, want] of cases)
      it(`server path "${prefix}"`, () => expect(joinPath(prefix, path)).to.equal(want));
  });

  describe('LineSplitter', () => {
    /** Feeds the chunks, then ends the stream; returns every line. */
    const split = (chunks: (Buffer | string)[]) => {
      const s = new LineSplitter();
      const out = chunks.flatMap((c) => s.push(typeof c === 'string' ? Buffer.from(c) : c));
      const last = s.end();
      return last === undefined ? out : [...out, last];
    };
    const euro = Buffer.from('{"v":"€"}\n'); // € is three bytes: e2 82 ac
    const cases: [string, (Buffer | string)[], string[]][] = [
      ['one line per chunk', ['{"a":1}\n', '{"b":2}\n'], ['{"a":1}', '{"b":2}']],
      ['several lines in one chunk', ['{"a":1}\n{"b":2}\n'], ['{"a":1}', '{"b":2}']],
      ['a line split over chunks', ['{"a"', ':1', '}\n{"b":', '2}\n'], ['{"a":1}', '{"b":2}']],
      ['a chunk that is only a newline', ['{"a":1}', '\n'], ['{"a":1}']],
      ['blank lines dropped', ['\n\n{"a":1}\n\n'], ['{"a":1}']],
      ['a last line without newline', ['{"a":1}\n{"b"', ':2}'], ['{"a":1}', '{"b":2}']],
      ['a multi-byte character split between chunks', [euro.subarray(0, 7), euro.subarray(7)], ['{"v":"€"}']],
      ['a multi-byte character split byte by byte', [...euro].map((b) => Buffer.from([b])), ['{"v":"€"}']],
      ['nothing', [], []],
    ];
    for (const [what, chunks, want] of cases) it(what, () => expect(split(chunks)).to.deep.equal(want));

    it('a line arriving in many chunks comes out once, whole', () => {
      const line = JSON.stringify({ data: 'x'.repeat(100_000) });
      const chunks = [];
      for (let i = 0; i < line.length; i += 1000) chunks.push(line.slice(i, i + 1000));
      chunks.push('\n');
      expect(split(chunks)).to.deep.equal([line]);
    });
  });
});

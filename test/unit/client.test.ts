// The REST client's wire behaviour against a scripted server: paths, query parameters,
// content types, DeleteOptions bodies, bearer tokens, watch streams and their ending.
import { expect } from 'chai';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '../../src/kube/client.ts';
import {
  execCredentials,
  parseExecCredential,
  runExecPlugin,
  tokenFileCredentials,
} from '../../src/kube/credentials.ts';
import type { ExecSpec } from '../../src/kube/kubeconfig.ts';
import { FakeApiServer, json, status } from '../fixtures/api-server.ts';

const bucket = { acquire: async () => {} };
const ref = { group: 'compute.gaffer.dev', version: 'v1alpha1', plural: 'computeclusters' };

describe('REST client', () => {
  let api: FakeApiServer;
  let client: KubeClient;
  const observed: [string, string, number | string][] = [];
  beforeEach(async () => {
    api = await new FakeApiServer().start();
    observed.length = 0;
    client = new KubeClient(api.config({ token: 'secret' }), {
      writes: bucket,
      events: bucket,
      observe: (verb, resource, code) => observed.push([verb, resource, code]),
    });
  });
  afterEach(() => api.stop());

  const last = () => {
    const s = api.seen.at(-1)!;
    return { ...s, body: s.body ? JSON.parse(s.body) : undefined };
  };

  it('creates a pod: POST with fieldManager, JSON, the bearer token; counted with the code the server sent', async () => {
    api.handler = (req, res) => json(res, 201, { ...JSON.parse(req.body), metadata: { name: 'p', uid: 'u1' } });
    const pod = await client.createPod('ns', { metadata: { name: 'p' } });
    expect(pod.metadata?.uid).to.equal('u1');
    const r = last();
    expect([r.method, r.path, r.query]).to.deep.equal([
      'POST',
      '/api/v1/namespaces/ns/pods',
      { fieldManager: 'gaffer' },
    ]);
    expect(r.headers['content-type']).to.equal('application/json');
    expect(r.headers.authorization).to.equal('Bearer secret');
    expect(observed).to.deep.equal([['create', 'pods', 201]]);
  });

  it('deletes with DeleteOptions in the body: uid precondition, grace period, background propagation', async () => {
    await client.deletePod('ns', 'p', 'u1', 0);
    expect(last()).to.deep.include({
      method: 'DELETE',
      path: '/api/v1/namespaces/ns/pods/p',
      body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: 'u1' }, gracePeriodSeconds: 0 },
    });
    await client.deletePod('ns', 'p');
    expect(last().body).to.deep.equal({ apiVersion: 'v1', kind: 'DeleteOptions' });
    await client.deleteCustom(ref, 'ns', 'c', 'u2');
    expect(last()).to.deep.include({
      path: '/apis/compute.gaffer.dev/v1alpha1/namespaces/ns/computeclusters/c',
      body: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background', preconditions: { uid: 'u2' } },
    });
  });

  it('applies a Service server-side: PATCH as apply-patch+yaml, fieldManager gaffer, force', async () => {
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'ns' } };
    await client.applyService('ns', svc);
    const r = last();
    expect([r.method, r.path, r.query]).to.deep.equal([
      'PATCH',
      '/api/v1/namespaces/ns/services/s',
      { fieldManager: 'gaffer', force: 'true' },
    ]);
    expect(r.headers['content-type']).to.equal('application/apply-patch+yaml');
    expect(r.body).to.deep.equal(svc);
  });

  it('replaces status, creates custom objects, events and leases at their paths', async () => {
    const obj = { metadata: { name: 'c', namespace: 'ns', resourceVersion: '7' }, status: { phase: 'Running' } };
    await client.replaceStatus(ref, obj);
    expect(last()).to.deep.include({
      method: 'PUT',
      path: '/apis/compute.gaffer.dev/v1alpha1/namespaces/ns/computeclusters/c/status',
      body: obj,
    });
    expect(last().query).to.deep.equal({ fieldManager: 'gaffer' });
    await client.createCustom(ref, 'ns', obj);
    expect(last()).to.deep.include({
      method: 'POST',
      path: '/apis/compute.gaffer.dev/v1alpha1/namespaces/ns/computeclusters',
    });
    await client.createEvent('ns', { eventTime: '2026-11-26T07:00:00.123000Z', metadata: { name: 'e' } });
    expect(last()).to.deep.include({ method: 'POST', path: '/apis/events.k8s.io/v1/namespaces/ns/events' });
    expect(last().body.eventTime).to.equal('2026-11-26T07:00:00.123000Z');
    await client.readLease('ns', 'l');
    expect(last()).to.deep.include({ method: 'GET', path: '/apis/coordination.k8s.io/v1/namespaces/ns/leases/l' });
    await client.replaceLease('ns', 'l', { metadata: { name: 'l', resourceVersion: '3' } });
    expect(last()).to.deep.include({ method: 'PUT', path: '/apis/coordination.k8s.io/v1/namespaces/ns/leases/l' });
    expect(observed.map((o) => o.slice(0, 2))).to.deep.equal([
      ['update', 'computeclusters/status'],
      ['create', 'computeclusters'],
      ['create', 'events'],
      ['get', 'leases'],
      ['update', 'leases'],
    ]);
  });

  it('a refused write is a KubeApiError, counted with its code', async () => {
    api.handler = (_req, res) => json(res, 422, status(422, 'Invalid', 'spec.containers: Required value'));
    const e = await client.createPod('ns', {}).catch((err: unknown) => err);
    expect(e).to.deep.include({ code: 422, message: 'spec.containers: Required value' });
    expect(observed).to.deep.equal([['create', 'pods', 422]]);
  });

  it('lists as plain JSON with limit, continue and labelSelector', async () => {
    api.handler = (_req, res) =>
      json(res, 200, {
        items: [{ metadata: { name: 'a', creationTimestamp: '2026-11-26T07:00:00Z' } }],
        metadata: { continue: 'next', resourceVersion: '9' },
      });
    const page = await client.list('pods', '/api/v1/pods', { limit: 500, continue: 'tok', labelSelector: 'a=b' });
    expect(last().query).to.deep.equal({ limit: '500', continue: 'tok', labelSelector: 'a=b' });
    expect(page.metadata).to.deep.equal({ continue: 'next', resourceVersion: '9' });
    expect((page.items![0] as { metadata: { creationTimestamp: unknown } }).metadata.creationTimestamp).to.be.a(
      'string',
    );
  });

  describe('watch', () => {
    const watch = (onEvent: (type: string, obj: unknown) => void) => {
      let handle: { abort(): void } | undefined;
      const done = new Promise<unknown[]>((resolve) => {
        const calls: unknown[] = [];
        void client
          .watch(
            '/api/v1/pods',
            { resourceVersion: '5', allowWatchBookmarks: true, timeoutSeconds: 300 },
            onEvent,
            (err) => {
              calls.push(err);
              // onDone must be called once: wait a little for a second call.
              setTimeout(() => resolve(calls), 50);
            },
          )
          .then((h) => (handle = h));
      });
      return { done, abort: () => handle?.abort() };
    };

    it('streams events split across chunks, then onDone() once when the server ends it', async () => {
      api.handler = (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        const text = [
          { type: 'ADDED', object: { metadata: { name: 'ü', resourceVersion: '6' } } },
          { type: 'BOOKMARK', object: { metadata: { resourceVersion: '7' } } },
        ]
          .map((e) => JSON.stringify(e) + '\n')
          .join('');
        const bytes = Buffer.from(text);
        // One byte at a time: lines and the two-byte ü are cut.
        let i = 0;
        const next = () => (i < bytes.length ? res.write(bytes.subarray(i, ++i), () => setImmediate(next)) : res.end());
        next();
      };
      const events: [string, unknown][] = [];
      const { done } = watch((type, obj) => events.push([type, obj]));
      expect(await done).to.deep.equal([undefined]);
      expect(events).to.deep.equal([
        ['ADDED', { metadata: { name: 'ü', resourceVersion: '6' } }],
        ['BOOKMARK', { metadata: { resourceVersion: '7' } }],
      ]);
      expect(last().query).to.deep.equal({
        resourceVersion: '5',
        allowWatchBookmarks: 'true',
        timeoutSeconds: '300',
        watch: '1',
      });
    });

    it('abort() ends an open watch: onDone() once, without an error', async () => {
      api.handler = (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.write(JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a' } } }) + '\n');
      };
      const events: string[] = [];
      let w: ReturnType<typeof watch> | undefined = undefined;
      const opened = new Promise<void>((r) => {
        w = watch((type) => {
          events.push(type);
          r();
        });
      });
      await opened;
      w!.abort();
      expect(await w!.done).to.deep.equal([undefined]);
      expect(events).to.deep.equal(['ADDED']);
    });

    it('a stream cut by the server: onDone(error) once', async () => {
      api.handler = (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.write(JSON.stringify({ type: 'ADDED', object: {} }) + '\n', () => res.destroy());
      };
      const calls = await watch(() => {}).done;
      expect(calls).to.have.length(1);
      expect(calls[0]).to.be.instanceOf(Error);
    });
  });
});

describe('credentials', () => {
  it('a token file is re-read after a minute; the last good token is kept if a read fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gaffer-token-'));
    const file = join(dir, 'token');
    let now = 0;
    try {
      writeFileSync(file, 'one\n');
      const src = tokenFileCredentials(file, {}, () => now);
      expect(await src.get()).to.deep.equal({ token: 'one' });
      writeFileSync(file, 'two');
      now = 59_000;
      expect((await src.get()).token).to.equal('one');
      now = 60_000;
      expect((await src.get()).token).to.equal('two');
      rmSync(file);
      now = 200_000;
      expect((await src.get()).token).to.equal('two');
      const e = await tokenFileCredentials(file, {})
        .get()
        .catch((err: Error) => err);
      expect((e as Error).message).to.equal(
        `cannot read the token file ${file}: ENOENT: no such file or directory, open '${file}'`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const spec: ExecSpec = {
    user: 'u',
    apiVersion: 'client.authentication.k8s.io/v1',
    command: 'plugin',
    args: [],
    env: {},
    provideClusterInfo: false,
  };

  it('an exec plugin is run once at a time and its answer cached until it expires, or until a 401', async () => {
    let runs = 0;
    let now = 1000;
    const src = execCredentials(
      spec,
      undefined,
      async () => ({ creds: { token: `t${++runs}` }, expires: 2000 }),
      () => now,
    );
    const [a, b] = await Promise.all([src.get(), src.get()]);
    expect([a.token, b.token, runs]).to.deep.equal(['t1', 't1', 1]);
    expect((await src.get()).token).to.equal('t1');
    now = 2000;
    expect((await src.get()).token).to.equal('t2');
    src.invalidate();
    expect((await src.get()).token).to.equal('t3');
  });

  it('reads an ExecCredential: a token, or a client certificate and key, with an expiry', () => {
    const out = (status: object, apiVersion = spec.apiVersion) =>
      JSON.stringify({ apiVersion, kind: 'ExecCredential', status });
    expect(
      parseExecCredential(out({ token: 't', expirationTimestamp: '2026-11-26T08:00:00Z' }), spec.apiVersion),
    ).to.deep.equal({
      creds: { token: 't' },
      expires: Date.parse('2026-11-26T08:00:00Z'),
    });
    const cert = parseExecCredential(out({ clientCertificateData: 'CERT', clientKeyData: 'KEY' }), spec.apiVersion);
    expect(cert.creds).to.deep.equal({ cert: Buffer.from('CERT'), key: Buffer.from('KEY') });
    expect(() => parseExecCredential(out({}), spec.apiVersion)).to.throw('neither a token nor');
    expect(() =>
      parseExecCredential(out({ token: 't' }, 'client.authentication.k8s.io/v1beta1'), spec.apiVersion),
    ).to.throw('not ExecCredential client.authentication.k8s.io/v1');
    expect(() => parseExecCredential('Please log in', spec.apiVersion)).to.throw('did not print an ExecCredential');
  });

  it('runs the plugin with its args and env and KUBERNETES_EXEC_INFO; a failure names the user and says why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gaffer-exec-'));
    try {
      const plugin = join(dir, 'plugin');
      writeFileSync(
        plugin,
        `#!/bin/sh
[ "$1" = fail ] && { echo "not logged in" >&2; exit 3; }
interactive=$(echo "$KUBERNETES_EXEC_INFO" | grep -c '"interactive":false')
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s-%s-%s"}}' "$1" "$TEAM" "$interactive"
`,
      );
      chmodSync(plugin, 0o755);
      const ok = await runExecPlugin({ ...spec, command: plugin, args: ['arg'], env: { TEAM: 'blue' } });
      expect(ok.creds).to.deep.equal({ token: 'arg-blue-1' });
      const failed = await runExecPlugin({ ...spec, command: plugin, args: ['fail'] }).catch((e: Error) => e);
      expect((failed as Error).message).to.match(
        /exec plugin ".*plugin" of user "u" failed: exit status 3: not logged in$/,
      );
      const missing = await runExecPlugin({
        ...spec,
        command: join(dir, 'nope'),
        installHint: 'install it from example.com',
      }).catch((e: Error) => e);
      expect((missing as Error).message).to.include('install it from example.com');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

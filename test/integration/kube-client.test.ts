// src/kube's REST client against the real API server: what each call does to the stored
// objects, the errors the server answers with, lists, and how watches end.
import { expect } from 'chai';
import { KubeClient, WritesFencedError, type ListResponse } from '../../src/kube/client.ts';
import { loadKubeConfig } from '../../src/kube/config.ts';
import { KubeApiError, KubeRequestError, apiErrorFields } from '../../src/kube/errors.ts';
import { formatMicroTime } from '../../src/kube/wire.ts';
import { KUBECONFIG, OPERATOR_KUBECONFIG, deleteNamespace, ensureCluster, kjson, testNamespace } from './harness.ts';
import { LoopbackProxy, clusterLoopbackProxy, kubeConfigVia } from '../../hack/fault-proxy.ts';

const bucket = { acquire: async () => {} };
const ref = { group: 'compute.gaffer.dev', version: 'v1alpha1', plural: 'computeclusters' };
const container = { name: 'main', image: 'busybox' };
const pod = (name: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels },
  spec: { containers: [container] },
});
const managers = (o: { metadata?: { managedFields?: { manager?: string; operation?: string }[] } }) =>
  (o.metadata?.managedFields ?? []).map((f) => `${f.manager}/${f.operation}`);
const failure = (p: Promise<unknown>) =>
  p.then(
    () => expect.fail('the server accepted it'),
    (e: unknown) => e,
  );

/** The admin kubeconfig, pointed at another loopback port (the proxy). */
const configVia = (port: number) => kubeConfigVia(KUBECONFIG, port);

describe('REST client on the API server', function () {
  this.timeout(60_000);
  let ns: string;
  let client: KubeClient;
  const observed: [string, string, number | string][] = [];
  before(async () => {
    await ensureCluster();
    ns = await testNamespace('kube-client');
  });
  after(() => deleteNamespace(ns));
  beforeEach(() => {
    observed.length = 0;
    client = new KubeClient(loadKubeConfig(KUBECONFIG), {
      writes: bucket,
      events: bucket,
      observe: (verb, resource, code) => observed.push([verb, resource, code]),
    });
  });

  it('creates a pod as field manager gaffer, counted with the code the server sent', async () => {
    const created = await client.createPod(ns, pod('created'));
    expect(created.metadata?.uid).to.be.a('string');
    expect(managers(await kjson(['get', '-n', ns, 'pod', 'created', '--show-managed-fields']))).to.include(
      'gaffer/Update',
    );
    expect(observed).to.deep.equal([['create', 'pods', 201]]);
  });

  it('deletes only the pod it decided about: a stale uid is a 409 Conflict; the right one goes at once', async () => {
    const p = await client.createPod(ns, pod('to-delete'));
    const e = await failure(client.deletePod(ns, 'to-delete', 'not-its-uid', 0));
    expect(e).to.be.instanceOf(KubeApiError);
    expect(apiErrorFields(e)).to.include({ code: 409, reason: 'Conflict' });
    await client.deletePod(ns, 'to-delete', p.metadata!.uid, 0);
    const left = await kjson(['get', '-n', ns, 'pods', '--field-selector', 'metadata.name=to-delete']);
    expect(left.items).to.have.length(0); // grace period 0 on a pod never scheduled: gone, not Terminating
    expect(observed.map((o) => o[2])).to.deep.equal([201, 409, 200]);
  });

  it('a refused write is a KubeApiError with the Status reason and message, counted with its code', async () => {
    const e = await failure(client.createPod(ns, { metadata: { name: 'bad' }, spec: { containers: [] } }));
    expect(apiErrorFields(e)).to.deep.include({ code: 422, reason: 'Invalid' });
    expect(apiErrorFields(e).message).to.include('spec.containers: Required value');
    expect(observed).to.deep.equal([['create', 'pods', 422]]);
  });

  it('applies a Service server-side: gaffer owns the fields it sent, and a second apply changes them', async () => {
    const svc = (port: number) => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'applied', namespace: ns },
      spec: { selector: { app: 'x' }, ports: [{ name: 'p', port }] },
    });
    await client.applyService(ns, svc(80));
    const stored = await client.applyService(ns, svc(81));
    expect(stored.spec?.ports?.map((p) => p.port)).to.deep.equal([81]);
    expect(managers(await kjson(['get', '-n', ns, 'service', 'applied', '--show-managed-fields']))).to.deep.equal([
      'gaffer/Apply',
    ]);
  });

  it('creates a custom object, replaces its status only with the current resourceVersion, deletes by uid', async () => {
    const cc = {
      apiVersion: 'compute.gaffer.dev/v1alpha1',
      kind: 'ComputeCluster',
      metadata: { name: 'cc', namespace: ns },
      spec: {
        master: { ports: [{ name: 'p', port: 7077 }], template: { spec: { containers: [container] } } },
        workers: { template: { spec: { containers: [container] } } },
      },
    };
    type Stored = typeof cc & { metadata: { uid: string; resourceVersion: string } };
    const created = (await client.createCustom(ref, ns, cc)) as Stored;
    const withStatus = { ...created, status: { phase: 'Pending', observedGeneration: 1 } };
    const stored = await client.replaceStatus(ref, withStatus);
    expect((await kjson(['get', '-n', ns, 'computecluster', 'cc'])).status).to.deep.include({ phase: 'Pending' });
    const stale = await failure(client.replaceStatus(ref, { ...withStatus, status: { phase: 'Running' } }));
    expect(apiErrorFields(stale)).to.include({ code: 409, reason: 'Conflict' });
    expect(stored.metadata.resourceVersion).to.not.equal(created.metadata.resourceVersion);
    const wrongUid = await failure(client.deleteCustom(ref, ns, 'cc', 'not-its-uid'));
    expect(apiErrorFields(wrongUid)).to.include({ code: 409 });
    await client.deleteCustom(ref, ns, 'cc', created.metadata.uid);
    expect((await kjson(['get', '-n', ns, 'computeclusters'])).items).to.have.length(0);
  });

  it('writes events.k8s.io Events and Leases with MicroTime fields the server accepts', async () => {
    const now = formatMicroTime(new Date('2026-11-26T07:00:00.123Z'));
    await client.createEvent(ns, {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: 'ev.1', namespace: ns },
      eventTime: now,
      reportingController: 'gaffer.dev/operator',
      reportingInstance: 'test',
      action: 'Test',
      reason: 'Test',
      type: 'Normal',
      note: 'hello',
      regarding: { kind: 'Pod', name: 'created', namespace: ns },
    });
    const ev = await kjson(['get', '-n', ns, 'events.events.k8s.io', 'ev.1']);
    expect(ev.eventTime).to.equal('2026-11-26T07:00:00.123000Z');
    const lease = await client.createLease(ns, {
      metadata: { name: 'l', namespace: ns },
      spec: { holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: now, renewTime: now },
    });
    const read = await client.readLease(ns, 'l');
    expect(read.spec?.renewTime).to.equal('2026-11-26T07:00:00.123000Z');
    await client.replaceLease(ns, 'l', { ...read, spec: { ...read.spec, holderIdentity: 'b' } });
    const stale = await failure(
      client.replaceLease(ns, 'l', { ...lease, spec: { ...lease.spec, holderIdentity: 'c' } }),
    );
    expect(apiErrorFields(stale)).to.include({ code: 409 });
    expect((await client.readLease(ns, 'l')).spec?.holderIdentity).to.equal('b');
  });

  it('lists page by page (limit, continue, labelSelector) as plain JSON', async () => {
    for (const n of ['l1', 'l2', 'l3']) await client.createPod(ns, pod(n, { page: 'yes' }));
    const path = `/api/v1/namespaces/${ns}/pods`;
    const first: ListResponse = await client.list('pods', path, { limit: 2, labelSelector: 'page=yes' });
    expect(first.items).to.have.length(2);
    expect(first.metadata?.continue).to.be.a('string').and.not.equal('');
    const second = await client.list('pods', path, {
      limit: 2,
      labelSelector: 'page=yes',
      continue: first.metadata!.continue!,
    });
    const names = [...first.items!, ...second.items!].map((p) => (p as { metadata: { name: string } }).metadata.name);
    expect(names.sort()).to.deep.equal(['l1', 'l2', 'l3']);
    expect((second.items![0] as { metadata: { creationTimestamp: unknown } }).metadata.creationTimestamp).to.be.a(
      'string',
    );
  });

  describe('network faults (through a loopback proxy)', () => {
    let proxy: LoopbackProxy;
    let viaProxy: KubeClient;
    beforeEach(async () => {
      proxy = await clusterLoopbackProxy();
      viaProxy = new KubeClient(configVia(proxy.port), {
        writes: bucket,
        events: bucket,
        observe: (verb, resource, code) => observed.push([verb, resource, code]),
      });
    });
    afterEach(() => proxy.stop());

    it('a kept-alive socket reset when reused: the request goes once more on a new one and succeeds', async () => {
      await client.createLease(ns, { metadata: { name: 'reuse' }, spec: { holderIdentity: 'a' } });
      await viaProxy.createPod(ns, pod('reuse-1')); // leaves a kept-alive socket in the pool
      proxy.resetOnReuse();
      const p = await viaProxy.createPod(ns, pod('reuse-2'));
      expect(proxy.resets, 'the reused socket was reset').to.equal(1);
      expect(p.metadata?.name).to.equal('reuse-2');
      expect(observed.slice(-2)).to.deep.equal([
        ['create', 'pods', 201],
        ['create', 'pods', 201],
      ]);
    });

    it('a lease renewal does not wait for a socket behind 64 stuck requests', async () => {
      await client.createLease(ns, { metadata: { name: 'renew' }, spec: { holderIdentity: 'a' } });
      proxy.holdNew(64);
      const path = `/api/v1/namespaces/${ns}/pods`;
      const stuck = Array.from({ length: 64 }, () => viaProxy.list('pods', path, {}));
      await new Promise((r) => setTimeout(r, 500)); // all 64 sockets taken and held
      const t0 = Date.now();
      const lease = await Promise.race([
        viaProxy.readLease(ns, 'renew'),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the lease read waited')), 5_000)),
      ]);
      expect(lease.spec?.holderIdentity).to.equal('a');
      expect(Date.now() - t0).to.be.below(5_000);
      proxy.release();
      expect(await Promise.all(stuck)).to.have.length(64);
    });
    it('a request its signal aborts fails at once with a KubeRequestError, though the server never answered', async () => {
      proxy.holdNew(1);
      const aborting = new AbortController();
      setTimeout(() => aborting.abort(new Error('the caller gave up')), 300);
      const err = await Promise.race([
        failure(viaProxy.list('pods', `/api/v1/namespaces/${ns}/pods`, {}, aborting.signal)),
        new Promise((r) => setTimeout(() => r(new Error('not aborted within 5 s')), 5_000)),
      ]);
      expect(err).to.be.instanceOf(KubeRequestError);
      expect(apiErrorFields(err).message).to.match(/aborted: the caller gave up$/);
    });
  });

  describe('fenceWrites (leadership lost)', () => {
    it('aborts a write in flight, so it never reaches the server; refuses later writes unsent; reads go on', async () => {
      const proxy = await clusterLoopbackProxy();
      try {
        const fenced = new KubeClient(configVia(proxy.port), { writes: bucket, events: bucket });
        proxy.holdNew(1); // the create's connection waits in the proxy, unsent
        const inFlight = failure(fenced.createPod(ns, pod('fenced-1')));
        await new Promise((r) => setTimeout(r, 300));
        fenced.fenceWrites('leadership lost');
        const err = await inFlight;
        expect(err).to.be.instanceOf(KubeRequestError);
        expect(apiErrorFields(err).message).to.match(/aborted: writes fenced: leadership lost$/);
        proxy.release(); // what the proxy held now goes on: the client's end of it is closed
        await new Promise((r) => setTimeout(r, 500));
        const later = await failure(fenced.createPod(ns, pod('fenced-2')));
        expect(later).to.be.instanceOf(WritesFencedError);
        expect(fenced.writesFenced).to.equal(true);
        const listed = await fenced.list('pods', `/api/v1/namespaces/${ns}/pods`, {});
        const names = (listed.items as { metadata: { name: string } }[]).map((p) => p.metadata.name);
        expect(names, 'neither write reached the server').to.not.include('fenced-1');
        expect(names).to.not.include('fenced-2');
      } finally {
        await proxy.stop();
      }
    });
  });

  describe('guardWrites (the renew deadline, checked at each write)', () => {
    it("a write asked after the guard gives a reason is refused unsent, and fences the client; the guard's earlier answers let writes through", async () => {
      const guarded = new KubeClient(loadKubeConfig(KUBECONFIG), { writes: bucket, events: bucket });
      let expired = false;
      guarded.guardWrites(() => (expired ? 'the renew deadline has passed' : undefined));
      await guarded.createPod(ns, pod('guarded-1'));
      expired = true;
      const err = await failure(guarded.createPod(ns, pod('guarded-2')));
      expect(err).to.be.instanceOf(WritesFencedError);
      expect(apiErrorFields(err).message).to.equal('writes fenced: the renew deadline has passed');
      expired = false; // a fence is for good
      expect(await failure(guarded.createPod(ns, pod('guarded-3')))).to.be.instanceOf(WritesFencedError);
      const names = (await kjson(['get', 'pods', '-n', ns])).items.map((p: any) => p.metadata.name);
      expect(names).to.include('guarded-1');
      expect(names).to.not.include.any.members(['guarded-2', 'guarded-3']);
    });
  });

  describe('watch', () => {
    /** A watch of this namespace's pods; `done` resolves with every onDone call (to see that it came once). */
    const watch = async (c: KubeClient, query: Record<string, string | number | boolean>) => {
      const events: [string, { metadata?: { name?: string } }][] = [];
      const calls: unknown[] = [];
      let resolveDone: (v: unknown[]) => void;
      const done = new Promise<unknown[]>((r) => (resolveDone = r));
      const list = await c.list('pods', `/api/v1/namespaces/${ns}/pods`, {});
      const handle = await c.watch(
        `/api/v1/namespaces/${ns}/pods`,
        { resourceVersion: list.metadata!.resourceVersion!, allowWatchBookmarks: true, ...query },
        (type, obj) => events.push([type, obj as { metadata?: { name?: string } }]),
        (err) => {
          calls.push(err);
          setTimeout(() => resolveDone(calls), 200); // a second call would land here too
        },
      );
      const until = async (name: string) => {
        for (let i = 0; i < 100 && !events.some(([, o]) => o.metadata?.name === name); i++)
          await new Promise((r) => setTimeout(r, 100));
        expect(events.map(([t, o]) => `${t} ${o.metadata?.name}`)).to.include(`ADDED ${name}`);
      };
      return { events, done, handle, until };
    };

    it('delivers events; when the server ends it (timeoutSeconds), onDone() once without an error', async () => {
      const w = await watch(client, { timeoutSeconds: 2 });
      await client.createPod(ns, pod('watched'));
      await w.until('watched');
      expect(await w.done).to.deep.equal([undefined]);
    });

    it('abort() ends an open watch: onDone() once, without an error', async () => {
      const w = await watch(client, { timeoutSeconds: 300 });
      await client.createPod(ns, pod('before-abort'));
      await w.until('before-abort');
      w.handle.abort();
      expect(await w.done).to.deep.equal([undefined]);
    });

    it('a stream the network cuts: onDone(error) once', async () => {
      const proxy = await clusterLoopbackProxy();
      try {
        const viaProxy = new KubeClient(configVia(proxy.port), { writes: bucket, events: bucket });
        const w = await watch(viaProxy, { timeoutSeconds: 300 });
        await client.createPod(ns, pod('before-cut'));
        await w.until('before-cut');
        proxy.cut();
        const calls = await w.done;
        expect(calls).to.have.length(1);
        expect(calls[0]).to.be.instanceOf(KubeRequestError);
      } finally {
        await proxy.stop();
      }
    });

    it('a watch the server refuses (403 for the operator on Secrets): a KubeApiError with its Status', async () => {
      const op = new KubeClient(loadKubeConfig(OPERATOR_KUBECONFIG), { writes: bucket, events: bucket });
      const err = await new Promise<unknown>((resolve) => {
        void op.watch(`/api/v1/namespaces/${ns}/secrets`, {}, () => {}, resolve);
      });
      expect(err).to.be.instanceOf(KubeApiError);
      expect(apiErrorFields(err)).to.include({ code: 403, reason: 'Forbidden' });
      expect(apiErrorFields(err).message).to.include('cannot watch resource "secrets"');
    });
  });
});

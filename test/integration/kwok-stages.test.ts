// The KWOK simulation vocabulary (hack/README.md) that the controllers' tests rely on.
import { expect } from 'chai';
import { stringify } from 'yaml';
import { deleteNamespace, ensureCluster, k, kjson, testNamespace, waitFor } from './cluster.ts';

const pod = (name: string, annotations: Record<string, string> = {}) =>
  stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, annotations },
    spec: {
      containers: [
        { name: 'main', image: 'registry.invalid/sim:1' },
        { name: 'side', image: 'registry.invalid/sim:1' },
      ],
    },
  });

describe('KWOK stages (simulated kubelet)', function () {
  this.timeout(120_000);
  let ns: string;
  before(async () => {
    await ensureCluster();
    ns = await testNamespace('kwok');
  });
  after(async () => {
    if (ns) await deleteNamespace(ns);
  });

  const get = (name: string) => kjson(['get', '-n', ns, 'pod', name]);
  const ready = (p: any) => p.status?.conditions?.find((c: any) => c.type === 'Ready')?.status;

  it('runs a plain pod: Running and Ready, and it stays so', async () => {
    await k(['apply', '-n', ns, '-f', '-'], pod('plain'));
    const p = await waitFor('plain Ready', async () => {
      const p = await get('plain');
      return ready(p) === 'True' && p;
    });
    expect(p.status.phase).to.equal('Running');
    expect(p.status.podIP).to.match(/^10\.244\./);
    expect(p.status.containerStatuses.map((c: any) => Object.keys(c.state)[0])).to.deep.equal(['running', 'running']);
    await new Promise((r) => setTimeout(r, 3000));
    expect((await get('plain')).status.phase).to.equal('Running');
  });

  it('completes a pod with exit code 0 after complete-after', async () => {
    await k(['apply', '-n', ns, '-f', '-'], pod('done', { 'sim.gaffer.dev/complete-after': '3s' }));
    const running = await waitFor('done Running', async () => {
      const p = await get('done');
      return p.status.phase === 'Running' && Date.now();
    });
    const p = await waitFor(
      'done Succeeded',
      async () => {
        const p = await get('done');
        return p.status.phase === 'Succeeded' && p;
      },
      30_000,
    );
    expect(Date.now() - running).to.be.greaterThan(1500);
    for (const c of p.status.containerStatuses)
      expect(c.state.terminated).to.include({ exitCode: 0, reason: 'Completed' });
  });

  it('completes a pod with the given exit-code: Failed when not 0', async () => {
    await k(
      ['apply', '-n', ns, '-f', '-'],
      pod('exit3', { 'sim.gaffer.dev/complete-after': '1s', 'sim.gaffer.dev/exit-code': '3' }),
    );
    const p = await waitFor(
      'exit3 Failed',
      async () => {
        const p = await get('exit3');
        return p.status.phase === 'Failed' && p;
      },
      30_000,
    );
    for (const c of p.status.containerStatuses) expect(c.state.terminated).to.include({ exitCode: 3, reason: 'Error' });
  });

  it('fails a pod with a given reason, exit code and pod-level reason (eviction)', async () => {
    await k(
      ['apply', '-n', ns, '-f', '-'],
      pod('evicted', {
        'sim.gaffer.dev/fail-after': '1s',
        'sim.gaffer.dev/exit-code': '137',
        'sim.gaffer.dev/reason': 'OOMKilled',
        'sim.gaffer.dev/pod-reason': 'Evicted',
      }),
    );
    const p = await waitFor(
      'evicted Failed',
      async () => {
        const p = await get('evicted');
        return p.status.phase === 'Failed' && p;
      },
      30_000,
    );
    expect(p.status.reason).to.equal('Evicted');
    expect(p.status.containerStatuses[0].state.terminated).to.include({ exitCode: 137, reason: 'OOMKilled' });
  });

  it('fails a running pod when the annotation is added later (one pod of many)', async () => {
    await k(['apply', '-n', ns, '-f', '-'], pod('later'));
    await waitFor('later Ready', async () => ready(await get('later')) === 'True');
    await k(['annotate', '-n', ns, 'pod', 'later', 'sim.gaffer.dev/fail-after=1s']);
    const p = await waitFor(
      'later Failed',
      async () => {
        const p = await get('later');
        return p.status.phase === 'Failed' && p;
      },
      30_000,
    );
    expect(p.status.containerStatuses[0].state.terminated).to.include({ exitCode: 1, reason: 'Error' });
  });

  it('crash-loops a pod: restartCount rises, CrashLoopBackOff in between, phase stays Running', async () => {
    await k(
      ['apply', '-n', ns, '-f', '-'],
      pod('crashy', {
        'sim.gaffer.dev/crash-loop': 'true',
        'sim.gaffer.dev/crash-after': '1s',
        'sim.gaffer.dev/restart-after': '1s',
      }),
    );
    let sawBackOff = false;
    const p = await waitFor(
      'restartCount >= 3',
      async () => {
        const p = await get('crashy');
        if (p.status.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff') sawBackOff = true;
        return (p.status.containerStatuses?.[0]?.restartCount ?? 0) >= 3 && p;
      },
      60_000,
      100,
    );
    expect(sawBackOff).to.equal(true);
    expect(p.status.phase).to.equal('Running');
    expect(p.status.containerStatuses[0].lastState.terminated.exitCode).to.equal(1);
  });

  it('holds a pod in ImagePullBackOff', async () => {
    await k(['apply', '-n', ns, '-f', '-'], pod('nopull', { 'sim.gaffer.dev/image-pull-error': 'true' }));
    const p = await waitFor('nopull ImagePullBackOff', async () => {
      const p = await get('nopull');
      return p.status.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff' && p;
    });
    await new Promise((r) => setTimeout(r, 2000));
    const later = await get('nopull');
    expect(later.status.phase).to.equal('Pending');
    expect(ready(later)).to.equal('False');
    expect(later.metadata.resourceVersion).to.equal(p.metadata.resourceVersion); // settled, not looping
  });

  it('deletes a pod at once when it is deleted', async () => {
    await k(['apply', '-n', ns, '-f', '-'], pod('gone'));
    await waitFor('gone Ready', async () => ready(await get('gone')) === 'True');
    await k(['delete', '-n', ns, 'pod', 'gone', '--timeout=20s']);
  });

  it('keeps a pod whose kubelet is gone Terminating until it is force-deleted', async () => {
    await k(['apply', '-n', ns, '-f', '-'], pod('orphaned', { 'sim.gaffer.dev/kubelet-gone': 'true' }));
    await waitFor('orphaned Ready', async () => ready(await get('orphaned')) === 'True');
    await k(['delete', '-n', ns, 'pod', 'orphaned', '--wait=false']);
    await new Promise((r) => setTimeout(r, 3000));
    expect((await get('orphaned')).metadata.deletionTimestamp).to.be.a('string');
    await k(['delete', '-n', ns, 'pod', 'orphaned', '--grace-period=0', '--force', '--timeout=20s']);
  });

  it('makes a labelled node NotReady, and Ready again when the label goes', async () => {
    const node = 'kwok-node-2';
    const nodeReady = async () =>
      (await kjson(['get', 'node', node])).status.conditions.find((c: any) => c.type === 'Ready');
    try {
      await k(['label', 'node', node, 'sim.gaffer.dev/not-ready=true']);
      const c = await waitFor(
        'node NotReady',
        async () => {
          const c = await nodeReady();
          return c.status === 'False' && c;
        },
        30_000,
      );
      expect(c.reason).to.equal('KubeletNotReady');
      await new Promise((r) => setTimeout(r, 2000));
      expect((await nodeReady()).status).to.equal('False'); // stays NotReady while labelled
    } finally {
      await k(['label', 'node', node, 'sim.gaffer.dev/not-ready-']);
    }
    await waitFor('node Ready again', async () => (await nodeReady()).status === 'True', 30_000);
  });
});

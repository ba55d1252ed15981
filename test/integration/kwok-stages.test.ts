// The KWOK simulation vocabulary (hack/README.md) that the controllers' tests rely on.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { podManifest } from '../fixtures/pods.ts';
import {
  CLUSTER_DIR,
  cond,
  k,
  kjson,
  nodeReady,
  setup,
  sleep,
  untilNodeReady,
  waitFor,
  whileNodeNotReady,
} from './harness.ts';

describe('KWOK stages (simulated kubelet)', function () {
  this.timeout(120_000);
  const s = setup('kwok');

  /** Runs a pod with two containers and these sim.gaffer.dev annotations. */
  const run = (name: string, annotations?: Record<string, string>) =>
    s.ns.apply(podManifest(name, { annotations, containers: ['main', 'side'] }));
  const get = (name: string) => s.ns.get('pod', name);
  const ready = (p: any) => cond(p, 'Ready')?.status;
  const untilReady = (name: string) => s.ns.until('pod', name, 'Ready', (p) => ready(p) === 'True');
  const untilPhase = (name: string, phase: string) =>
    s.ns.until('pod', name, phase, (p) => p.status.phase === phase, 30_000);

  it('runs a plain pod: Running and Ready, and it stays so', async () => {
    await run('plain');
    const p = await untilReady('plain');
    expect(p.status.phase).to.equal('Running');
    expect(p.status.podIP).to.match(/^10\.244\./);
    expect(p.status.containerStatuses.map((c: any) => Object.keys(c.state)[0])).to.deep.equal(['running', 'running']);
    await sleep(3000);
    expect((await get('plain')).status.phase).to.equal('Running');
  });

  it('completes a pod with exit code 0 after complete-after', async () => {
    await run('done', { 'sim.gaffer.dev/complete-after': '3s' });
    const running = await waitFor(
      'done Running',
      async () => (await get('done')).status.phase === 'Running' && Date.now(),
    );
    const p = await untilPhase('done', 'Succeeded');
    expect(Date.now() - running).to.be.greaterThan(1500);
    for (const c of p.status.containerStatuses)
      expect(c.state.terminated).to.include({ exitCode: 0, reason: 'Completed' });
  });

  it('completes a pod with the given exit-code: Failed when not 0', async () => {
    await run('exit3', { 'sim.gaffer.dev/complete-after': '1s', 'sim.gaffer.dev/exit-code': '3' });
    const p = await untilPhase('exit3', 'Failed');
    for (const c of p.status.containerStatuses) expect(c.state.terminated).to.include({ exitCode: 3, reason: 'Error' });
  });

  it('fails a pod with a given reason, exit code and pod-level reason (eviction)', async () => {
    await run('evicted', {
      'sim.gaffer.dev/fail-after': '1s',
      'sim.gaffer.dev/exit-code': '137',
      'sim.gaffer.dev/reason': 'OOMKilled',
      'sim.gaffer.dev/pod-reason': 'Evicted',
    });
    const p = await untilPhase('evicted', 'Failed');
    expect(p.status.reason).to.equal('Evicted');
    expect(p.status.containerStatuses[0].state.terminated).to.include({ exitCode: 137, reason: 'OOMKilled' });
  });

  it('fails a running pod when the annotation is added later (one pod of many)', async () => {
    await run('later');
    await untilReady('later');
    await s.ns.annotate('pod', 'later', { 'sim.gaffer.dev/fail-after': '1s' });
    const p = await untilPhase('later', 'Failed');
    expect(p.status.containerStatuses[0].state.terminated).to.include({ exitCode: 1, reason: 'Error' });
  });

  it('crash-loops a pod: restartCount rises, CrashLoopBackOff in between, phase stays Running', async () => {
    await run('crashy', {
      'sim.gaffer.dev/crash-loop': 'true',
      'sim.gaffer.dev/crash-after': '1s',
      'sim.gaffer.dev/restart-after': '1s',
    });
    let sawBackOff = false;
    const p = await s.ns.until(
      'pod',
      'crashy',
      'restartCount >= 3',
      (p) => {
        if (p.status.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff') sawBackOff = true;
        return (p.status.containerStatuses?.[0]?.restartCount ?? 0) >= 3;
      },
      60_000,
      100,
    );
    expect(sawBackOff).to.equal(true);
    expect(p.status.phase).to.equal('Running');
    expect(p.status.containerStatuses[0].lastState.terminated.exitCode).to.equal(1);
  });

  it('holds a pod in ImagePullBackOff', async () => {
    await run('nopull', { 'sim.gaffer.dev/image-pull-error': 'true' });
    const p = await s.ns.until(
      'pod',
      'nopull',
      'ImagePullBackOff',
      (p) => p.status.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff',
    );
    await sleep(2000);
    const later = await get('nopull');
    expect(later.status.phase).to.equal('Pending');
    expect(ready(later)).to.equal('False');
    expect(later.metadata.resourceVersion).to.equal(p.metadata.resourceVersion); // settled, not looping
  });

  it('deletes a pod at once when it is deleted', async () => {
    await run('gone');
    await untilReady('gone');
    await s.ns.delete('pod', 'gone', '--timeout=20s');
  });

  it('keeps a pod whose kubelet is gone Terminating until it is force-deleted', async () => {
    await run('orphaned', { 'sim.gaffer.dev/kubelet-gone': 'true' });
    await untilReady('orphaned');
    await s.ns.delete('pod', 'orphaned', '--wait=false');
    await sleep(3000);
    expect((await get('orphaned')).metadata.deletionTimestamp).to.be.a('string');
    await s.ns.delete('pod', 'orphaned', '--grace-period=0', '--force', '--timeout=20s');
  });

  it('makes a labelled node NotReady, and Ready again when the label goes', async () => {
    const node = 'kwok-node-2';
    await whileNodeNotReady(node, async () => {
      const c = await waitFor(
        'node NotReady',
        async () => {
          const c = await nodeReady(node);
          return c.status === 'False' && c;
        },
        30_000,
      );
      expect(c.reason).to.equal('KubeletNotReady');
      await sleep(2000);
      expect((await nodeReady(node)).status).to.equal('False'); // stays NotReady while labelled
    });
    await untilNodeReady(node, 30_000);
  });
  // The race behind a CI failure: a pod placed on a node that just recovered, before
  // kube-controller-manager's next pass, is marked not Ready by its node lifecycle controller
  // (MarkPodsNotReady); KWOK, unlike a kubelet, never sets it Ready again. Here
  // kube-controller-manager is paused by its pid (SIGSTOP) while it holds the node tainted, so it
  // lags for as long as the test needs; the mark is written as that controller writes it, since
  // which of its goroutines runs first on resume is not fixed.
  let pausedKcm: number | undefined;
  const resumeKcm = () => {
    if (pausedKcm) process.kill(pausedKcm, 'SIGCONT');
    pausedKcm = undefined;
  };
  // A test that timed out must not leave kube-controller-manager stopped.
  afterEach(resumeKcm);
  it("untilNodeReady: waits until kube-controller-manager sees the node Ready, then a pod marked not Ready is Ready again, as a kubelet's sync makes it", async () => {
    const node = 'kwok-node-1';
    const pidLine = readFileSync(`${CLUSTER_DIR}/run/pids`, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('kube-controller-manager '))
      .pop();
    const kcm = Number(pidLine?.split(' ')[1]);
    expect(kcm, 'kube-controller-manager pid').to.be.greaterThan(0);
    const noExecute = async () =>
      ((await kjson(['get', 'node', node])).spec.taints ?? []).some(
        (t: any) => t.key === 'node.kubernetes.io/not-ready' && t.effect === 'NoExecute',
      );
    let recovered: Promise<void> | undefined;
    let done = false;
    await k(['label', 'node', node, 'sim.gaffer.dev/not-ready=true']);
    try {
      await waitFor('the not-ready NoExecute taint', noExecute, 30_000);
      process.kill(kcm, 'SIGSTOP');
      pausedKcm = kcm;
      process.once('exit', resumeKcm); // even if the run is cut short
      try {
        await k(['label', 'node', node, 'sim.gaffer.dev/not-ready-']);
        await waitFor('node Ready', async () => (await nodeReady(node)).status === 'True', 30_000);
        recovered = untilNodeReady(node, 60_000).then(() => void (done = true));
        // The not-ready taints stay while the controller is stopped: the pod tolerates them.
        const pod = podManifest('late-comer');
        const tolerations = [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists' }];
        const spec = { ...pod.spec, nodeSelector: { 'kubernetes.io/hostname': node }, tolerations };
        await s.ns.apply({ ...pod, spec });
        const p = await untilReady('late-comer');
        // MarkPodsNotReady: the pod's Ready condition set False, nothing else, by a status update.
        p.status.conditions.find((c: any) => c.type === 'Ready').status = 'False';
        await s.ns.k(['replace', '--subresource=status', '-f', '-'], JSON.stringify(p));
        await sleep(3000);
        expect(await noExecute(), 'the controller has not seen the node Ready').to.equal(true);
        expect(done, 'untilNodeReady returned while the controller still held the node not Ready').to.equal(false);
        expect(ready(await get('late-comer')), 'KWOK left it not Ready').to.equal('False');
      } finally {
        resumeKcm();
        process.off('exit', resumeKcm);
      }
    } finally {
      await k(['label', 'node', node, 'sim.gaffer.dev/not-ready-']);
      // Recovered either way, for the next test.
      await (recovered ?? untilNodeReady(node)).catch(() => undefined);
    }
    expect(done, 'untilNodeReady returned').to.equal(true);
    expect(await noExecute()).to.equal(false);
    const p = await get('late-comer');
    expect(ready(p)).to.equal('True');
    expect(p.status.phase).to.equal('Running');
  });
});

// The v1alpha1 API as the real API server enforces it: examples, invalid specs, defaults,
// the status and scale subresources, printer columns, and the embedded pod schema.
import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { podTemplateSchemaFromOpenAPI } from '../../hack/openapi.ts';
import { validateObject } from '../../src/api/v1alpha1/index.ts';
import { invalidCases, minimalCluster, minimalJob } from '../fixtures/specs.ts';
import { k, setup } from './harness.ts';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return yamlFiles(p);
    return p.endsWith('.yaml') ? [p] : [];
  });
}

describe('API v1alpha1 on the real API server', function () {
  this.timeout(120_000);
  const s = setup('api');

  /** Client-side apply, as a first `kubectl apply` of a new object creates it. */
  const create = (obj: object) => s.ns.apply(obj, { serverSide: false });
  const scaleUrl = (name: string) =>
    `/apis/compute.gaffer.dev/v1alpha1/namespaces/${s.ns.name}/computeclusters/${name}/scale`;

  for (const file of yamlFiles('examples')) {
    it(`accepts ${file}`, async () => {
      const out = await s.ns.k(['apply', '--server-side', '-f', file]);
      expect(out).to.match(/serverside-applied/);
    });
  }

  describe('rejects each invalid spec with a message naming the field', () => {
    for (const c of invalidCases) {
      it(c.name, async () => {
        const obj = c.build();
        const r = await s.ns.tryApply(obj, { serverSide: false });
        expect(r.code, `accepted: ${r.stdout}`).to.not.equal(0);
        for (const text of c.expect) expect(r.stderr).to.include(text);
        // Offline validation (gaffer validate) must reject it too, naming the same thing.
        const offline = validateObject(obj).errors.map((e) => `${e.field}: ${e.message}`);
        for (const text of c.expect)
          expect(
            offline.some((m) => m.includes(text)),
            JSON.stringify(offline),
          ).to.equal(true);
      });
    }
  });

  it('applies server-side defaults that match the offline ones to a ComputeCluster', async () => {
    const c = minimalCluster('defaults');
    await create(c);
    const stored = await s.ns.get('computecluster', 'defaults');
    expect(stored.spec.master.failurePolicy).to.deep.equal({
      action: 'RecreateMaster',
      maxRestarts: 5,
      windowSeconds: 3600,
    });
    expect(stored.spec.podRecovery.nodeLossSeconds).to.equal(60);
    expect(stored.spec).to.deep.equal(validateObject<any>(c).value.spec);
  });

  it('applies server-side defaults that match the offline ones to a ComputeJob', async () => {
    const j = minimalJob('defaults');
    await create(j);
    const storedJob = await s.ns.get('computejob', 'defaults');
    expect(storedJob.spec.failurePolicy.rules).to.deep.equal([
      {
        action: 'Ignore',
        onReasons: [
          'MasterRestarted',
          'NodeLost',
          'Evicted',
          'EvictionByEvictionAPI',
          'PreemptionByScheduler',
          'DeletionByTaintManager',
          'TerminationByKubelet',
        ],
      },
    ]);
    expect(storedJob.spec).to.deep.equal(validateObject<any>(j).value.spec);
  });

  it('keeps status apart from spec (status subresource)', async () => {
    await create(minimalCluster('status'));
    // A status in a write to the main resource is ignored ...
    await s.ns.patch('cc', 'status', { status: { phase: 'Running' } });
    expect((await s.ns.get('cc', 'status')).status).to.equal(undefined);
    // ... and only the status subresource writes it, without bumping the generation.
    const before = (await s.ns.get('cc', 'status')).metadata.generation;
    await s.ns.patch('cc', 'status', { status: { phase: 'Running', observedGeneration: 1 } }, 'status');
    const after = await s.ns.get('cc', 'status');
    expect(after.status.phase).to.equal('Running');
    expect(after.metadata.generation).to.equal(before);
  });

  it('scales spec.workers.replicas through the scale subresource', async () => {
    await create(minimalCluster('scaled'));
    const selector = 'compute.gaffer.dev/cluster=scaled,compute.gaffer.dev/role=worker';
    await s.ns.patch('cc', 'scaled', { status: { workers: { replicas: 2, selector } } }, 'status');
    await s.ns.scale('computecluster', 'scaled', 5);
    expect((await s.ns.get('cc', 'scaled')).spec.workers.replicas).to.equal(5);
    const scale = JSON.parse(await k(['get', '--raw', scaleUrl('scaled')]));
    expect(scale.spec.replicas).to.equal(5);
    expect(scale.status).to.deep.equal({ replicas: 2, selector });
    // An HPA may target a ComputeCluster.
    await create({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'scaled' },
      spec: {
        scaleTargetRef: { apiVersion: 'compute.gaffer.dev/v1alpha1', kind: 'ComputeCluster', name: 'scaled' },
        minReplicas: 1,
        maxReplicas: 8,
        metrics: [
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
        ],
      },
    });
  });

  it('shows the printer columns in kubectl get cc,cjob and the gaffer category', async () => {
    await create(minimalCluster('columns'));
    await s.ns.patch(
      'cc',
      'columns',
      { status: { phase: 'Running', master: { ready: true }, workers: { summary: '2/2' } } },
      'status',
    );
    await create(minimalJob('columns'));
    await s.ns.patch(
      'cjob',
      'columns',
      { status: { phase: 'Succeeded', clusterName: 'columns', attemptCount: 2, duration: '1m5s' } },
      'status',
    );
    const out = await s.ns.k(['get', 'cc,cjob']);
    expect(out).to.match(/NAME\s+WORKERS\s+PHASE\s+MASTER\s+AGE/);
    expect(out).to.match(/computecluster\.compute\.gaffer\.dev\/columns\s+2\/2\s+Running\s+true\s+\d+s/);
    expect(out).to.match(/NAME\s+CLUSTER\s+PHASE\s+ATTEMPTS\s+AGE\s+DURATION/);
    expect(out).to.match(/computejob\.compute\.gaffer\.dev\/columns\s+columns\s+Succeeded\s+2\s+\d+s\s+1m5s/);
    const all = await s.ns.k(['get', 'gaffer', '-o', 'name']);
    expect(all)
      .to.include('computecluster.compute.gaffer.dev/columns')
      .and.to.include('computejob.compute.gaffer.dev/columns');
  });

  it('embeds the pod template schema of the running API server (run npm run gen:openapi if this fails)', async () => {
    const live = podTemplateSchemaFromOpenAPI(JSON.parse(await k(['get', '--raw', '/openapi/v3/api/v1'])));
    const committed = JSON.parse(readFileSync('src/api/v1alpha1/podtemplatespec.schema.json', 'utf8'));
    expect(committed.kubernetesVersion).to.equal(JSON.parse(await k(['get', '--raw', '/version'])).gitVersion);
    expect(committed.schema).to.deep.equal(live);
  });
});

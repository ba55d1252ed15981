import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { renderCRDFiles } from '../../src/api/v1alpha1/crd.ts';
import { renderApiDoc } from '../../src/api/v1alpha1/docs.ts';

describe('crds/', () => {
  it('is what `npm run gen` writes (run it after changing src/api)', async () => {
    const files = await renderCRDFiles();
    expect(
      readdirSync('crds')
        .filter((f) => f.endsWith('.yaml'))
        .sort(),
    ).to.deep.equal([...files.keys()].sort());
    for (const dir of ['crds', 'charts/gaffer/files/crds']) {
      expect(
        readdirSync(dir)
          .filter((f) => f.endsWith('.yaml'))
          .sort(),
      ).to.deep.equal([...files.keys()].sort());
      for (const [name, content] of files) {
        expect(readFileSync(`${dir}/${name}`, 'utf8') === content, `${dir}/${name} is stale: run npm run gen`).to.equal(
          true,
        );
      }
    }
  });

  it('docs/api.md holds the tables `npm run gen` writes (run it after changing src/api)', () => {
    const doc = readFileSync('docs/api.md', 'utf8');
    expect(renderApiDoc(doc) === doc, 'docs/api.md is stale: run npm run gen').to.equal(true);
  });

  const crd = (plural: string) => parse(readFileSync(`crds/compute.gaffer.dev_${plural}.yaml`, 'utf8'));

  it('describes every field outside the embedded pod templates (kubectl explain, docs/api.md)', () => {
    const missing: string[] = [];
    let fields = 0;
    // An embedded PodTemplateSpec comes from the API server's OpenAPI as is: its own node is
    // described, what is inside it is Kubernetes' schema.
    const isPodTemplate = (n: any) => !!n.properties?.spec?.properties?.containers;
    // The root's metadata may hold nothing but its type: the API server describes it (ObjectMeta).
    const describedByServer = (field: string) => /^\w+\.metadata$/.test(field);
    const walk = (n: any, path: string) => {
      for (const [k, v] of Object.entries<any>(n.properties ?? {})) {
        const field = `${path}.${k}`;
        if (describedByServer(field)) continue;
        fields++;
        if (typeof v.description !== 'string' || !v.description.trim()) missing.push(field);
        if (isPodTemplate(v)) continue;
        walk(v, field);
        if (v.items) walk(v.items, `${field}[]`);
      }
    };
    for (const p of ['computeclusters', 'computejobs']) walk(crd(p).spec.versions[0].schema.openAPIV3Schema, p);
    expect(fields).to.be.greaterThan(150);
    expect(missing, `fields without a description: ${missing.join(', ')}`).to.deep.equal([]);
  });

  it('names both kinds as docs/api.md does', () => {
    const cc = crd('computeclusters').spec;
    const cj = crd('computejobs').spec;
    expect(cc.names).to.deep.include({ kind: 'ComputeCluster', shortNames: ['cc'], categories: ['gaffer'] });
    expect(cj.names).to.deep.include({ kind: 'ComputeJob', shortNames: ['cjob'], categories: ['gaffer'] });
    expect(cc.scope).to.equal('Namespaced');
    expect(cc.versions[0].subresources.scale).to.deep.equal({
      specReplicasPath: '.spec.workers.replicas',
      statusReplicasPath: '.status.workers.replicas',
      labelSelectorPath: '.status.workers.selector',
    });
    expect(cj.versions[0].subresources).to.deep.equal({ status: {} });
    expect(cc.versions[0].additionalPrinterColumns.map((c: any) => c.name)).to.deep.equal([
      'Workers',
      'Phase',
      'Master',
      'Age',
      'Queue',
      'Queued',
    ]);
    expect(cj.versions[0].additionalPrinterColumns.map((c: any) => c.name)).to.deep.equal([
      'Cluster',
      'Phase',
      'Attempts',
      'Age',
      'Duration',
      'Queue',
      'Queued',
    ]);
  });

  it('holds only structural schema nodes', () => {
    const problems: string[] = [];
    const walk = (n: any, path: string) => {
      if (!n || typeof n !== 'object') return;
      if (n.additionalProperties === false) problems.push(`${path}: additionalProperties: false`);
      if (n.additionalProperties && n.properties) problems.push(`${path}: properties and additionalProperties`);
      if (n.$ref || n.patternProperties || n['x-gaffer-rules']) problems.push(`${path}: non-structural keyword`);
      if (!n.type && !n['x-kubernetes-int-or-string'] && !n['x-kubernetes-preserve-unknown-fields'] && path !== '')
        problems.push(`${path}: no type`);
      for (const [k, v] of Object.entries(n.properties ?? {})) walk(v, `${path}.${k}`);
      if (n.items) walk(n.items, `${path}[]`);
      if (typeof n.additionalProperties === 'object') walk(n.additionalProperties, `${path}{}`);
    };
    for (const p of ['computeclusters', 'computejobs']) walk(crd(p).spec.versions[0].schema.openAPIV3Schema, p);
    expect(problems).to.deep.equal([]);
  });

  it('bounds every list a CEL rule can iterate', () => {
    const schema = crd('computejobs').spec.versions[0].schema.openAPIV3Schema;
    const rules = schema.properties.spec.properties.failurePolicy.properties.rules;
    expect(rules.maxItems).to.equal(20);
    expect(rules.items.properties.onExitCodes.properties.values.maxItems).to.equal(255);
  });
});

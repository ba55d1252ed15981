import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { renderCRDFiles } from '../../src/api/v1alpha1/crd.ts';

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

  const crd = (plural: string) => parse(readFileSync(`crds/compute.gaffer.dev_${plural}.yaml`, 'utf8'));

  it('names both kinds as api.md does', () => {
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
    ]);
    expect(cj.versions[0].additionalPrinterColumns.map((c: any) => c.name)).to.deep.equal([
      'Cluster',
      'Phase',
      'Attempts',
      'Age',
      'Duration',
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

// `npm run gen`: writes crds/*.yaml and charts/gaffer/files/crds/*.yaml from the TypeScript
// schemas, and the generated tables of docs/api.md. Unit tests fail when the committed files
// differ from what this would write (test/unit/crds.test.ts).
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { renderCRDFiles } from '../src/api/v1alpha1/crd.ts';
import { renderApiDoc } from '../src/api/v1alpha1/docs.ts';

// The same files go to crds/ (kubectl apply) and into the Helm chart.
const files = await renderCRDFiles();
for (const target of ['crds/', 'charts/gaffer/files/crds/']) {
  const dir = new URL(`../${target}`, import.meta.url);
  mkdirSync(dir, { recursive: true });
  for (const old of readdirSync(dir)) if (old.endsWith('.yaml') && !files.has(old)) rmSync(new URL(old, dir));
  for (const [name, content] of files) {
    writeFileSync(new URL(name, dir), content);
    console.log(`wrote ${target}${name} (${Math.round(content.length / 1024)} KiB)`);
  }
}

// The field and rule tables of docs/api.md, between their markers; the prose around them is written by hand.
const doc = new URL('../docs/api.md', import.meta.url);
const before = readFileSync(doc, 'utf8');
const after = renderApiDoc(before);
if (after !== before) writeFileSync(doc, after);
console.log(`${after === before ? 'checked' : 'wrote'} docs/api.md (generated tables)`);

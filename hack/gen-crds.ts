// Writes crds/*.yaml and charts/gaffer/files/crds/*.yaml from the TypeScript schemas (npm run gen). A unit test fails when
// the committed files differ from what this would write.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { renderCRDFiles } from '../src/api/v1alpha1/crd.ts';

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

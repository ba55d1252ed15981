// Writes crds/*.yaml from the TypeScript schemas (npm run gen). A unit test fails when
// the committed files differ from what this would write.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { renderCRDFiles } from '../src/api/v1alpha1/crd.ts';

const dir = new URL('../crds/', import.meta.url);
mkdirSync(dir, { recursive: true });
const files = await renderCRDFiles();
for (const old of readdirSync(dir)) if (old.endsWith('.yaml') && !files.has(old)) rmSync(new URL(old, dir));
for (const [name, content] of files) {
  writeFileSync(new URL(name, dir), content);
  console.log(`wrote crds/${name} (${Math.round(content.length / 1024)} KiB)`);
}

// Reads PodTemplateSpec's schema from the running API server (npm run cluster:up first)
// and writes src/api/v1alpha1/podtemplatespec.schema.json. Run by `npm run gen:openapi`.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { podTemplateSchemaFromOpenAPI } from './openapi.ts';
import { kubectlArgs, kubectlPath } from './kubectl.ts';

const raw = execFileSync(kubectlPath(), [...kubectlArgs(), 'get', '--raw', '/openapi/v3/api/v1'], {
  maxBuffer: 64 << 20,
});
const version = JSON.parse(
  execFileSync(kubectlPath(), [...kubectlArgs(), 'get', '--raw', '/version']).toString(),
).gitVersion;
const schema = podTemplateSchemaFromOpenAPI(JSON.parse(raw.toString()));
const out = new URL('../src/api/v1alpha1/podtemplatespec.schema.json', import.meta.url);
writeFileSync(out, JSON.stringify({ kubernetesVersion: version, schema }, null, 1) + '\n');
console.log(`wrote ${out.pathname} from Kubernetes ${version}`);

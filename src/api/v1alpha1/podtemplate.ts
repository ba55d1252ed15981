// The PodTemplateSpec schema, read from the real API server's OpenAPI by
// `npm run gen:openapi` (hack/gen-openapi.ts) and committed, so pod templates are
// validated field by field at `kubectl apply` time instead of passed through blind.
import type { V1PodTemplateSpec } from '../../kube/types.ts';
import { embedded, type NodeOptions } from './dsl.ts';
import podTemplateDocument from './podtemplatespec.schema.json' with { type: 'json' };

const document = podTemplateDocument as unknown as { kubernetesVersion: string; schema: Record<string, unknown> };

// The API server rejects unknown fields through strict field validation (kubectl's
// default); ajv needs it said: every object with known properties is closed. The CRD
// generator drops `additionalProperties: false` again (structural schemas prune instead).
function closed(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(closed);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = closed(v);
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}
const closedSchema = closed(document.schema) as Record<string, unknown>;

export const podTemplate = (o: NodeOptions = {}) =>
  embedded<V1PodTemplateSpec>('PodTemplateSpec', structuredClone(closedSchema), o);

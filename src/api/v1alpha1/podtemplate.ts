// The PodTemplateSpec schema, read from the real API server's OpenAPI by
// `npm run gen:openapi` (hack/gen-openapi.ts) and committed, so pod templates are
// validated field by field at `kubectl apply` time instead of passed through blind.
import { readFileSync } from 'node:fs';
import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import { embedded, type NodeOptions } from './dsl.ts';

const file = new URL('./podtemplatespec.schema.json', import.meta.url);
const document = JSON.parse(readFileSync(file, 'utf8')) as { kubernetesVersion: string; schema: Record<string, unknown> };

/** The Kubernetes version whose OpenAPI the embedded schema came from. */
export const podTemplateSchemaSource = document.kubernetesVersion;

export const podTemplate = (o: NodeOptions = {}) => embedded<V1PodTemplateSpec>(structuredClone(document.schema), o);

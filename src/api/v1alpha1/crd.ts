// Turns a KindDefinition into its CustomResourceDefinition (pure; hack/gen-crds.ts writes it).
import { CATEGORY, GROUP, VERSION } from './group.ts';
import type { KindDefinition } from './resources.ts';
import type { Rule } from './dsl.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** The structural-schema form of a schema node: Kubernetes extensions in, ajv-only keywords out. */
export function toStructural(node: unknown): Json {
  if (Array.isArray(node)) return node.map(toStructural);
  if (node === null || typeof node !== 'object') return node as Json;
  const out: Record<string, Json> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'additionalProperties' && value === false) continue; // structural schemas prune instead
    if (key === 'x-gaffer-rules') {
      out['x-kubernetes-validations'] = (value as Rule[]).map((r) => ({
        rule: r.rule, message: r.message, ...(r.fieldPath ? { fieldPath: r.fieldPath } : {}),
      }));
      continue;
    }
    out[key] = toStructural(value);
  }
  return out;
}

export function toCRD(def: KindDefinition): Record<string, Json> {
  const subresources: Record<string, Json> = { status: {} };
  if (def.scale) subresources.scale = { ...def.scale };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${def.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/name': 'gaffer', 'app.kubernetes.io/part-of': 'gaffer' },
    },
    spec: {
      group: GROUP,
      names: {
        kind: def.kind, listKind: def.listKind, plural: def.plural, singular: def.singular,
        shortNames: [...def.shortNames], categories: [CATEGORY],
      },
      scope: 'Namespaced',
      versions: [{
        name: VERSION,
        served: true,
        storage: true,
        schema: { openAPIV3Schema: toStructural(def.schema) },
        subresources,
        additionalPrinterColumns: def.printerColumns.map((c) => ({ ...c })) as unknown as Json,
      }],
    },
  };
}

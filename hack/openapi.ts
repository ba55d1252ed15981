// Turns the API server's OpenAPI v3 document for core/v1 into a structural schema of
// PodTemplateSpec that a CRD can embed: $refs inlined, descriptions dropped (size),
// Quantity and IntOrString as x-kubernetes-int-or-string, template metadata limited to
// labels and annotations. Pure, so a test can compare it with the live server's.

type Node = Record<string, any>;

const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';
const POD_TEMPLATE_SPEC = 'io.k8s.api.core.v1.PodTemplateSpec';

// Kubernetes' own pattern for a resource quantity (as controller-gen emits it).
const QUANTITY_PATTERN =
  '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';

const DROPPED_KEYS = new Set([
  'description',
  'x-kubernetes-patch-strategy',
  'x-kubernetes-patch-merge-key',
  'x-kubernetes-group-version-kind',
  'x-kubernetes-unions',
  'readOnly',
]);

export function podTemplateSchemaFromOpenAPI(doc: { components: { schemas: Record<string, Node> } }): Node {
  const schemas = doc.components.schemas;
  const refName = (ref: string) => ref.replace('#/components/schemas/', '');

  function named(name: string, stack: string[]): Node {
    if (name === QUANTITY)
      return {
        'x-kubernetes-int-or-string': true,
        anyOf: [{ type: 'integer' }, { type: 'string' }],
        pattern: QUANTITY_PATTERN,
      };
    if (name === INT_OR_STRING)
      return { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] };
    if (name === OBJECT_META) {
      return {
        type: 'object',
        properties: {
          labels: { type: 'object', additionalProperties: { type: 'string' } },
          annotations: { type: 'object', additionalProperties: { type: 'string' } },
        },
      };
    }
    if (stack.includes(name)) throw new Error(`recursive schema ${[...stack, name].join(' -> ')} cannot be embedded`);
    const target = schemas[name];
    if (!target) throw new Error(`OpenAPI document has no schema ${name}`);
    return convert(target, [...stack, name]);
  }

  function convert(node: Node, stack: string[]): Node {
    if (node.$ref) return named(refName(node.$ref), stack);
    // `allOf: [{$ref}]` is how OpenAPI v3 attaches a default or description to a reference.
    if (Array.isArray(node.allOf) && node.allOf.length === 1 && node.allOf[0].$ref) {
      return named(refName(node.allOf[0].$ref), stack);
    }
    const out: Node = {};
    for (const [key, value] of Object.entries(node)) {
      if (DROPPED_KEYS.has(key)) continue;
      if (key === 'default') continue; // re-added below only where a list-map key needs it
      if (key === 'properties') {
        out.properties = Object.fromEntries(
          Object.entries(value as Node).map(([k, v]) => [k, convert(v as Node, stack)]),
        );
      } else if (key === 'items' || key === 'additionalProperties') {
        out[key] = typeof value === 'object' ? convert(value as Node, stack) : value;
      } else {
        out[key] = value;
      }
    }
    // A map-type list needs each key field required or defaulted (protocol defaults to TCP).
    if (out['x-kubernetes-list-type'] === 'map' && out.items?.properties) {
      const itemSource = node.items.$ref ? schemas[refName(node.items.$ref)] : node.items;
      for (const key of out['x-kubernetes-list-map-keys'] ?? []) {
        const required: string[] = out.items.required ?? [];
        const def = itemSource?.properties?.[key]?.default;
        if (!required.includes(key) && def !== undefined) out.items.properties[key].default = def;
      }
    }
    return out;
  }

  const schema = named(POD_TEMPLATE_SPEC, []);
  return schema;
}

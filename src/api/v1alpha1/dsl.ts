// A small vocabulary over TypeBox for writing each kind's schema once. Every node it
// builds is valid both as a Kubernetes structural schema (crds/) and for ajv (offline
// validation), and TypeBox's Static<> gives the TypeScript type.
import Type, { type Static, type TSchema } from 'typebox';

export { Type, type Static, type TSchema };

/**
 * A cross-field rule, written once for both places that check it: the CEL expression
 * goes into the CRD (checked by the API server at `kubectl apply`), the predicate is
 * used by `gaffer validate` offline. Unit tests run both over the same table of specs.
 */
export interface Rule<T = any> {
  /** CEL over `self` (the node the rule is attached to). */
  rule: string;
  message: string;
  /** JSONPath-like field, relative to the node, that the message is about (must exist in the schema). */
  fieldPath?: string;
  /** For offline errors only, where fieldPath cannot be used (metadata has no schema). */
  reportAs?: string;
  /** The same check in TypeScript, over the defaulted object. */
  check: (self: T) => boolean;
}

export interface NodeOptions {
  description?: string;
  rules?: Rule[];
  default?: unknown;
}

// Kubernetes extensions stay on the nodes; ajv is told they are annotations (validate.ts).
function ext(opts: NodeOptions | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!opts) return out;
  if (opts.description) out.description = opts.description;
  if (opts.default !== undefined) out.default = opts.default;
  if (opts.rules?.length) out['x-gaffer-rules'] = opts.rules;
  return out;
}

export const str = (
  o: NodeOptions & { minLength?: number; maxLength?: number; pattern?: string; format?: string } = {},
) => {
  const { description, rules, default: d, ...rest } = o;
  return Type.String({ ...rest, ...ext({ description, rules, default: d }) });
};

export const int = (o: NodeOptions & { minimum?: number; maximum?: number; format?: 'int32' | 'int64' } = {}) => {
  const { description, rules, default: d, ...rest } = o;
  return Type.Integer({ ...rest, ...ext({ description, rules, default: d }) });
};

export const bool = (o: NodeOptions = {}) => Type.Boolean(ext(o));

/** A string restricted to a fixed set of values. */
export const oneOf = <const V extends readonly string[]>(values: V, o: NodeOptions = {}) =>
  Type.Unsafe<V[number]>({ type: 'string', enum: [...values], ...ext(o) });

/** A timestamp as RFC 3339 text (Kubernetes `date-time`). */
export const time = (o: NodeOptions = {}) => Type.String({ format: 'date-time', ...ext(o) });

/** Kubernetes IntOrString (for example `maxUnavailable: 1` or `"25%"`). */
export const intOrString = (o: NodeOptions & { pattern?: string } = {}) =>
  Type.Unsafe<number | string>({
    'x-kubernetes-int-or-string': true,
    anyOf: [{ type: 'integer' }, { type: 'string', ...(o.pattern ? { pattern: o.pattern } : {}) }],
    ...ext(o),
  });

/** A map of string to T, written the structural way (additionalProperties, not patternProperties). */
export const mapOf = <T extends TSchema>(value: T, o: NodeOptions & { maxProperties?: number } = {}) => {
  const { maxProperties, ...rest } = o;
  return Type.Unsafe<Record<string, Static<T>>>({
    type: 'object',
    additionalProperties: value,
    ...(maxProperties ? { maxProperties } : {}),
    ...ext(rest),
  });
};

export const list = <T extends TSchema>(
  item: T,
  o: NodeOptions & { maxItems: number; minItems?: number; listType?: 'atomic' | 'set' | 'map'; listMapKeys?: string[] },
) => {
  const { maxItems, minItems, listType, listMapKeys, ...rest } = o;
  return Type.Array(item, {
    maxItems,
    ...(minItems !== undefined ? { minItems } : {}),
    ...(listType ? { 'x-kubernetes-list-type': listType } : {}),
    ...(listMapKeys ? { 'x-kubernetes-list-map-keys': listMapKeys } : {}),
    ...ext(rest),
  });
};

/**
 * An object with known properties. Unknown fields are rejected by ajv (offline) and by the
 * API server's strict field validation (kubectl's default); the CRD generator drops
 * `additionalProperties: false`, which structural schemas do not allow.
 */
export const obj = <P extends Record<string, TSchema>>(props: P, o: NodeOptions = {}) =>
  Type.Object(props, { additionalProperties: false, ...ext(o) });

export const opt = Type.Optional;

/** A schema taken as is (the PodTemplateSpec read from the API server's OpenAPI). */
export const embedded = <T>(schema: Record<string, unknown>, o: NodeOptions = {}) =>
  Type.Unsafe<T>({ ...schema, ...ext(o) });

// A small vocabulary over TypeBox for writing each kind's schema once. Every node it
// builds is valid both as a Kubernetes structural schema (crds/) and for ajv (offline
// validation), and TypeBox's Static<> gives the TypeScript type. Defaults are declared
// only through `opt(schema, { default })`, which also marks the property at the type
// level, so `Resolved<>` knows which fields are always present once validated.
import Type, { type Static, type TArray, type TObject, type TOptional, type TProperties, type TSchema } from 'typebox';

export { Type, type Static, type TSchema };

/**
 * A cross-field rule, written once for both places that check it: the CEL expression
 * goes into the CRD (checked by the API server at `kubectl apply`), the predicate is
 * used by `gaffer validate` offline. Unit tests run both over the same table of specs.
 * `T` is the node's type after defaulting (ajv applies the defaults before the rules run).
 */
export interface Rule<T = never> {
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
  /** What `kubectl explain` and docs/api.md show; every field has one (test/unit/crds.test.ts). */
  description?: string;
  rules?: Rule[];
}

// Kubernetes extensions stay on the nodes; ajv is told they are annotations (validate.ts).
function ext(opts: NodeOptions | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!opts) return out;
  if (opts.description) out.description = opts.description;
  if (opts.rules?.length) out['x-gaffer-rules'] = opts.rules;
  return out;
}

export const str = (o: NodeOptions & { minLength?: number; maxLength?: number; pattern?: string } = {}) => {
  const { description, rules, ...rest } = o;
  return Type.String({ ...rest, ...ext({ description, rules }) });
};

export const int = (o: NodeOptions & { minimum?: number; maximum?: number; format?: 'int32' | 'int64' } = {}) => {
  const { description, rules, ...rest } = o;
  return Type.Integer({ ...rest, ...ext({ description, rules }) });
};

export const bool = (o: NodeOptions = {}) => Type.Boolean(ext(o));

/** A string restricted to a fixed set of values. */
export const oneOf = <const V extends readonly string[]>(values: V, o: NodeOptions = {}) =>
  Type.Unsafe<V[number]>({ type: 'string', enum: [...values], ...ext(o) });

/** A timestamp as RFC 3339 text (Kubernetes `date-time`). */
export const time = (o: NodeOptions = {}) => Type.String({ format: 'date-time', ...ext(o) });

/** Kubernetes IntOrString (for example `maxUnavailable: 1` or `"25%"`). */
export const intOrString = (o: NodeOptions & { pattern?: string; maxLength?: number } = {}) =>
  Type.Unsafe<number | string>({
    'x-kubernetes-int-or-string': true,
    anyOf: [{ type: 'integer' }, { type: 'string', ...(o.pattern ? { pattern: o.pattern } : {}) }],
    // A string's bound (ignored for an integer): it keeps the cost of CEL rules over it small.
    ...(o.maxLength ? { maxLength: o.maxLength } : {}),
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

/** Hidden (non-enumerable) property naming the type of an embedded schema, for docs/api.md. */
export const EMBEDDED = '~gaffer-embedded';

/** A schema taken as is (the PodTemplateSpec read from the API server's OpenAPI), named `typeName` in the docs. */
export const embedded = <T>(typeName: string, schema: Record<string, unknown>, o: NodeOptions = {}) => {
  const node = Type.Unsafe<T>({ ...schema, ...ext(o) });
  Object.defineProperty(node, EMBEDDED, { value: typeName, enumerable: false });
  return node;
};

// ---- optional fields and defaults ----

/** Type-level mark of a property whose schema has a `default` (see `opt`). */
export interface TDefaulted {
  readonly '~gaffer-default': true;
}

/** Hidden (non-enumerable) runtime twin of TDefaulted, so tests can tell how a default was declared. */
export const DEFAULTED = '~gaffer-default';

/**
 * A copy of `schema` with `default` after the description and before the rules (the CRDs'
 * key order), keeping TypeBox's hidden properties.
 */
function withDefault<T extends TSchema>(schema: T, value: unknown): T {
  const out = {} as T;
  const descriptors = Object.getOwnPropertyDescriptors(schema) as Record<string, PropertyDescriptor>;
  const put = (key: string, d: PropertyDescriptor) => Object.defineProperty(out, key, d);
  const dflt = { value: structuredClone(value), enumerable: true, writable: true, configurable: true };
  for (const [key, d] of Object.entries(descriptors)) {
    if (key === 'x-gaffer-rules') put('default', dflt);
    if (key !== 'default') put(key, d);
  }
  if (!Object.hasOwn(out, 'default')) put('default', dflt);
  put(DEFAULTED, { value: true, enumerable: false, writable: false, configurable: true });
  return out;
}

/**
 * An optional property. With `{ default }`, the API server (and ajv, offline) fill the value
 * in when it is absent, so the property is optional in the input type (`Static<>`) and
 * present in the validated one (`Resolved<>`). This is the only way to give a default.
 */
export function opt<T extends TSchema>(schema: T): TOptional<T>;
export function opt<T extends TSchema>(schema: T, o: { default: Static<T> }): TOptional<T> & TDefaulted;
export function opt<T extends TSchema>(schema: T, o?: { default: Static<T> }): TOptional<T> {
  const optional = Type.Optional(schema) as TOptional<T>;
  return o ? withDefault(optional, o.default) : optional;
}

type Evaluate<T> = { [K in keyof T]: T[K] } & {};
type OptionalKeys<P extends TProperties> = {
  [K in keyof P]: P[K] extends TDefaulted ? never : P[K] extends TOptional<TSchema> ? K : never;
}[keyof P];
type ResolvedProperties<P extends TProperties> = Evaluate<
  { [K in Exclude<keyof P, OptionalKeys<P>>]: Resolved<P[K]> } & { [K in OptionalKeys<P>]?: Resolved<P[K]> }
>;

/**
 * The type of a validated, defaulted value of schema T: like `Static<T>`, but every property
 * declared with `opt(schema, { default })` is required, at every depth (objects and lists).
 * Embedded schemas (pod templates) keep their own types.
 */
export type Resolved<T extends TSchema> =
  T extends TObject<infer P extends TProperties>
    ? ResolvedProperties<P>
    : T extends TArray<infer I extends TSchema>
      ? Resolved<I>[]
      : Static<T>;

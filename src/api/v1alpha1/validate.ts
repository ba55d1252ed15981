// Offline validation with the same schema the CRDs carry: ajv for the structure and
// defaults, then each cross-field rule's TypeScript twin of its CEL expression.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { API_VERSION } from './group.ts';
import {
  ALL_KINDS,
  computeClusterKind,
  computeJobKind,
  type KindDefinition,
  type ValidComputeCluster,
  type ValidComputeJob,
} from './resources.ts';
import { EMBEDDED, type Rule } from './dsl.ts';

export interface FieldError {
  /** Dotted path of the field, such as `spec.workers.minReplicas`. */
  field: string;
  message: string;
}

export interface ValidationResult<T = unknown> {
  ok: boolean;
  errors: FieldError[];
  /** The object with schema defaults applied, as the API server would store it (typed as such only when ok). */
  value: T;
}

const ajv = new Ajv({
  allErrors: true,
  useDefaults: true,
  strict: true,
  strictTypes: false,
  strictTuples: false,
  validateFormats: true,
});
ajv.addVocabulary([
  'x-kubernetes-int-or-string',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-map-type',
  'x-kubernetes-validations',
  'x-gaffer-rules',
]);
const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;
ajv.addFormat('date-time', rfc3339);
for (const f of ['int32', 'int64', 'double', 'float', 'byte']) ajv.addFormat(f, true);

/**
 * The kind's schema as the operator checks objects the API server has stored: the embedded
 * pod templates become opaque objects (their own cross-field rules kept). The server validated
 * them on write against the same schema (and pruned unknown fields), so checking them again
 * cannot fail, while compiling their ~6,500-line schema costs the operator about 100 MiB.
 */
function storedSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(storedSchema);
  if (!isObject(node)) return node;
  if (node[EMBEDDED]) {
    const { description, 'x-gaffer-rules': rules } = node as { description?: string; 'x-gaffer-rules'?: Rule[] };
    const opaque: Record<string, unknown> = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
    if (description) opaque.description = description;
    if (rules) opaque['x-gaffer-rules'] = rules;
    return opaque;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = k === 'x-gaffer-rules' ? v : storedSchema(v);
  return out;
}

interface Checker {
  schema: SchemaNode;
  validate: ValidateFunction;
}
const compiled = new Map<string, Checker>();
function checkerFor(def: KindDefinition, stored: boolean): Checker {
  const key = `${def.kind}/${stored ? 'stored' : 'full'}`;
  let c = compiled.get(key);
  if (!c) {
    const schema = (stored ? storedSchema(def.schema) : def.schema) as SchemaNode;
    c = { schema, validate: ajv.compile(schema) };
    compiled.set(key, c);
  }
  return c;
}

function pathOf(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p.replace(/~1/g, '/').replace(/~0/g, '~')}`))
    .join('')
    .replace(/^\./, '');
}

function describe(e: ErrorObject): FieldError {
  const base = pathOf(e.instancePath);
  const join = (child: string) => (base ? `${base}.${child}` : child);
  switch (e.keyword) {
    case 'additionalProperties':
      return {
        field: join(String(e.params.additionalProperty)),
        message: 'unknown field (check its spelling and where it is nested)',
      };
    case 'required':
      return { field: join(String(e.params.missingProperty)), message: 'required field is missing' };
    case 'enum':
      return { field: base, message: `must be one of: ${(e.params.allowedValues as unknown[]).join(', ')}` };
    default:
      return { field: base, message: e.message ?? e.keyword };
  }
}

// Keeps the most useful of ajv's errors: anyOf branches (int-or-string) repeat themselves.
function dedupe(errors: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const k = `${e.field}\u0000${e.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** The parts of a schema node that the rule walk reads. */
interface SchemaNode {
  'x-gaffer-rules'?: Rule[];
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  additionalProperties?: SchemaNode | boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

function passes(rule: Rule, value: unknown): boolean {
  try {
    return (rule.check as (self: unknown) => boolean)(value);
  } catch {
    return false;
  }
}

/** Walks schema and value together, running each node's cross-field rules where the value is present. */
function checkRules(schema: SchemaNode, value: unknown, path: string, out: FieldError[]): void {
  if (value === undefined || value === null || !schema || typeof schema !== 'object') return;
  for (const rule of schema['x-gaffer-rules'] ?? []) {
    if (!passes(rule, value)) {
      const field = [path, (rule.fieldPath ?? rule.reportAs)?.replace(/^\./, '')].filter(Boolean).join('.');
      out.push({ field: field || '(object)', message: rule.message });
    }
  }
  if (schema.properties && isObject(value) && !Array.isArray(value)) {
    for (const [k, s] of Object.entries(schema.properties)) checkRules(s, value[k], path ? `${path}.${k}` : k, out);
  }
  if (schema.items && Array.isArray(value)) value.forEach((v, i) => checkRules(schema.items!, v, `${path}[${i}]`, out));
  const additional = schema.additionalProperties;
  if (isObject(additional) && isObject(value)) {
    for (const [k, v] of Object.entries(value)) checkRules(additional, v, `${path}.${k}`, out);
  }
}

export function kindOf(kind: string | undefined): KindDefinition | undefined {
  return ALL_KINDS.find((d) => d.kind === kind);
}

/** Validates one ComputeCluster or ComputeJob object as the API server would, offline. */
export function validateObject<T = unknown>(obj: unknown): ValidationResult<T> {
  const value = structuredClone(obj) as T;
  if (!isObject(value)) return { ok: false, errors: [{ field: '(document)', message: 'not an object' }], value };
  if (value.apiVersion !== API_VERSION) {
    return { ok: false, errors: [{ field: 'apiVersion', message: `must be ${API_VERSION}` }], value };
  }
  const def = kindOf(typeof value.kind === 'string' ? value.kind : undefined);
  if (!def)
    return {
      ok: false,
      errors: [{ field: 'kind', message: `must be one of: ${ALL_KINDS.map((d) => d.kind).join(', ')}` }],
      value,
    };
  return validateAs<T>(def, value);
}

/**
 * Validates an object as the given kind (its apiVersion and kind are not checked) and
 * applies the schema defaults, on a copy. Prefer the typed validateCluster/validateJob.
 */
export function validateAs<T = unknown>(def: KindDefinition, obj: unknown, stored = false): ValidationResult<T> {
  const value = structuredClone(obj) as T;
  const { schema, validate } = checkerFor(def, stored);
  const errors: FieldError[] = [];
  if (!validate(value)) errors.push(...(validate.errors ?? []).map(describe));
  if (!errors.length) checkRules(schema, value, '', errors);
  return { ok: errors.length === 0, errors: dedupe(errors), value };
}

/**
 * A ComputeCluster, validated and defaulted: when `ok`, `value` has every field that has a
 * schema default, so callers need no `?? default` of their own.
 */
export function validateCluster(obj: unknown): ValidationResult<ValidComputeCluster> {
  return validateAs<ValidComputeCluster>(computeClusterKind, obj);
}

/** A ComputeJob, validated and defaulted (clusterTemplate.spec included), as validateCluster. */
export function validateJob(obj: unknown): ValidationResult<ValidComputeJob> {
  return validateAs<ValidComputeJob>(computeJobKind, obj);
}

/**
 * A ComputeCluster the API server has stored (the operator's cache), validated and defaulted
 * as validateCluster does, but for its pod templates, which the server has already checked.
 */
export function validateStoredCluster(obj: unknown): ValidationResult<ValidComputeCluster> {
  return validateAs<ValidComputeCluster>(computeClusterKind, obj, true);
}

/** A ComputeJob the API server has stored, as validateStoredCluster. */
export function validateStoredJob(obj: unknown): ValidationResult<ValidComputeJob> {
  return validateAs<ValidComputeJob>(computeJobKind, obj, true);
}

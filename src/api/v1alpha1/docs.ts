// The generated parts of docs/api.md: one table per kind and part (spec, status) with each
// field's type, default and description, and the cross-field rules, all read from the same
// schemas as the CRDs. `npm run gen` (hack/gen-crds.ts) rewrites them between the markers;
// a unit test fails when the committed file differs.
import { flow } from './crd.ts';
import { EMBEDDED, type Rule } from './dsl.ts';
import { computeClusterKind, computeJobKind, type KindDefinition } from './resources.ts';

/** The parts of a schema node the tables read. */
interface SchemaNode {
  type?: string;
  format?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  maxItems?: number;
  required?: string[];
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  additionalProperties?: SchemaNode | boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-gaffer-rules'?: Rule[];
  [EMBEDDED]?: string;
}

interface Row {
  field: string;
  type: string;
  default: string;
  description: string;
}

/** Fields documented by a type name instead of their own rows (the spec a job embeds). */
const SUMMARIZED: Record<string, string> = { 'spec.clusterTemplate.spec': 'ComputeClusterSpec' };

function bounds(n: SchemaNode): string {
  if (n.minimum !== undefined && n.maximum !== undefined) return ` (${n.minimum}–${n.maximum})`;
  if (n.minimum !== undefined) return ` (≥ ${n.minimum})`;
  if (n.maxLength !== undefined) return ` (≤ ${n.maxLength} chars)`;
  return '';
}

function typeOf(n: SchemaNode): string {
  if (n[EMBEDDED]) return n[EMBEDDED];
  if (n['x-kubernetes-int-or-string']) return 'int or string';
  if (n.enum) return `enum: ${n.enum.map((v) => `\`${String(v)}\``).join(', ')}`;
  if (n.type === 'array') {
    const items = n.maxItems !== undefined ? `, ≤ ${n.maxItems} items` : '';
    return `[]${n.items ? typeOf(n.items) : 'unknown'}${items}`;
  }
  if (n.type === 'object' && typeof n.additionalProperties === 'object') {
    return `map[string]${typeOf(n.additionalProperties)}`;
  }
  if (n.format === 'date-time') return 'time (RFC 3339)';
  return `${n.type ?? 'unknown'}${bounds(n)}`;
}

/** Markdown-safe table cell: pipes escaped, placeholders such as <cluster>-master in code spans. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/[\w.:-]*<[a-z]+>(?:[\w.:-]|<[a-z]+>)*/g, (m) => {
    const code = m.replace(/[.:]+$/, '');
    return `\`${code}\`${m.slice(code.length)}`;
  });
}

function rows(node: SchemaNode, prefix: string, out: Row[]): Row[] {
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const field = `${prefix}${name}`;
    const dflt = child.default !== undefined ? `\`${flow(child.default)}\`` : '';
    const summarized = SUMMARIZED[field];
    out.push({
      field: `\`${field}\``,
      type: summarized ?? typeOf(child),
      default: node.required?.includes(name) ? 'required' : dflt,
      description: cell(child.description ?? ''),
    });
    if (summarized || child[EMBEDDED]) continue;
    if (child.properties) rows(child, `${field}.`, out);
    if (child.items?.properties) rows(child.items, `${field}[].`, out);
  }
  return out;
}

function table(header: string[], body: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...body.map(line)].join('\n');
}

function fieldTable(def: KindDefinition, part: 'spec' | 'status'): string {
  const root = def.schema as SchemaNode;
  const body = rows(root.properties![part]!, `${part}.`, []).map((r) => [r.field, r.type, r.default, r.description]);
  return table(['field', 'type', 'default', 'description'], body);
}

function ruleRows(kind: string, node: SchemaNode, path: string, out: string[][]): string[][] {
  for (const r of node['x-gaffer-rules'] ?? []) {
    const field = [path, (r.fieldPath ?? r.reportAs)?.replace(/^\./, '')].filter(Boolean).join('.');
    out.push([kind, `\`${field || '(object)'}\``, cell(r.message)]);
  }
  if (node[EMBEDDED]) return out;
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    ruleRows(kind, child, path ? `${path}.${name}` : name, out);
  }
  if (node.items) ruleRows(kind, node.items, `${path}[]`, out);
  return out;
}

function rulesTable(): string {
  const body = [computeClusterKind, computeJobKind].flatMap((d) => ruleRows(d.kind, d.schema as SchemaNode, '', []));
  return table(['kind', 'field', 'rule'], body);
}

/** The generated sections of docs/api.md, by marker name. */
export function generatedSections(): Map<string, string> {
  return new Map([
    ['ComputeCluster spec', fieldTable(computeClusterKind, 'spec')],
    ['ComputeCluster status', fieldTable(computeClusterKind, 'status')],
    ['ComputeJob spec', fieldTable(computeJobKind, 'spec')],
    ['ComputeJob status', fieldTable(computeJobKind, 'status')],
    ['validation rules', rulesTable()],
  ]);
}

/**
 * docs/api.md with every generated section rewritten between its markers:
 * `<!-- BEGIN GENERATED: name -->` ... `<!-- END GENERATED: name -->`. A missing marker is an error.
 */
export function renderApiDoc(markdown: string): string {
  let out = markdown;
  for (const [name, content] of generatedSections()) {
    const begin = `<!-- BEGIN GENERATED: ${name} (npm run gen) -->`;
    const end = `<!-- END GENERATED: ${name} -->`;
    const from = out.indexOf(begin);
    const to = out.indexOf(end);
    if (from < 0 || to < from) throw new Error(`docs/api.md: markers for "${name}" are missing: ${begin} ... ${end}`);
    out = `${out.slice(0, from + begin.length)}\n\n${content}\n\n${out.slice(to)}`;
  }
  return out;
}

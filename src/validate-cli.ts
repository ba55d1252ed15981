// `gaffer validate FILE_OR_DIR...`: checks ComputeCluster and ComputeJob manifests offline
// against the schema the CRDs carry plus the cross-field rules, for CI pipelines.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { GROUP, validateObject } from './api/v1alpha1/index.ts';
import { errorMessage } from './kube/errors.ts';

function files(path: string): string[] {
  const st = statSync(path);
  if (!st.isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((f) => {
      const p = join(path, f);
      if (statSync(p).isDirectory()) return files(p);
      return /\.(ya?ml|json)$/.test(f) ? [p] : [];
    });
}

export interface ValidateReport {
  lines: string[];
  checked: number;
  errors: number;
  skipped: number;
}

export function validatePaths(paths: string[]): ValidateReport {
  const r: ValidateReport = { lines: [], checked: 0, errors: 0, skipped: 0 };
  for (const path of paths) {
    let list: string[];
    try {
      list = files(path);
    } catch (e) {
      r.lines.push(`${path}: cannot read: ${errorMessage(e)}`);
      r.errors++;
      continue;
    }
    for (const file of list) {
      const docs = parseAllDocuments(readFileSync(file, 'utf8'));
      docs.forEach((doc, i) => {
        const where = `${file}${docs.length > 1 ? ` (document ${i + 1})` : ''}`;
        if (doc.errors.length) {
          r.lines.push(`${where}: not valid YAML: ${doc.errors[0]!.message}`);
          r.errors++;
          return;
        }
        const obj = doc.toJS();
        if (!obj || typeof obj !== 'object') return;
        if (typeof obj.apiVersion !== 'string' || !obj.apiVersion.startsWith(`${GROUP}/`)) {
          r.skipped++;
          return;
        }
        r.checked++;
        const res = validateObject(obj);
        const name = `${obj.kind ?? '?'}/${obj.metadata?.name ?? '?'}`;
        for (const e of res.errors) {
          r.lines.push(`${where}: ${name}: ${e.field}: ${e.message}`);
          r.errors++;
        }
      });
    }
  }
  return r;
}

export function runValidate(args: string[]): number {
  if (!args.length || args.includes('--help') || args.includes('-h')) {
    process.stdout.write(
      'Usage: gaffer validate FILE_OR_DIR...\n\nChecks ComputeCluster and ComputeJob manifests offline (schema, defaults, cross-field rules).\nOther objects are skipped. Exits 1 if any error is found.\n',
    );
    return args.length ? 0 : 2;
  }
  const r = validatePaths(args);
  for (const l of r.lines) process.stdout.write(`${l}\n`);
  process.stdout.write(
    `${r.checked} Gaffer object(s) checked, ${r.errors} error(s), ${r.skipped} other object(s) skipped\n`,
  );
  return r.errors ? 1 : 0;
}

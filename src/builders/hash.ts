import { createHash } from 'node:crypto';

/** JSON with keys sorted, so equal objects always serialize alike. */
export function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** The revision of a pod template: a short hash that changes when the template does. */
export const templateHash = (template: unknown): string =>
  createHash('sha256').update(stableStringify(template)).digest('hex').slice(0, 10);

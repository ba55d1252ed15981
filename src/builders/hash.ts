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

/** A revision: a short hash of what a pod is built from, which changes when any of it does. */
export const revisionHash = (inputs: unknown): string =>
  createHash('sha256').update(stableStringify(inputs)).digest('hex').slice(0, 10);

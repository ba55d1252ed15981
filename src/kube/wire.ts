// Small pure pieces of the wire format: MicroTime, request paths and query strings, and the
// newline-delimited JSON of a watch stream split into lines.
import { StringDecoder } from 'node:string_decoder';

/**
 * A metav1.MicroTime as the API server wants it: RFC 3339 in UTC with exactly six fractional
 * digits (`2026-11-26T07:00:00.123000Z`). A Date holds milliseconds, so the last three are 0.
 */
export function formatMicroTime(t: Date | string | number = new Date()): string {
  const d = t instanceof Date ? t : new Date(t);
  if (Number.isNaN(d.getTime())) throw new Error(`not a time: ${String(t)}`);
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export type QueryValue = string | number | boolean | undefined;
export type Query = Record<string, QueryValue>;

/** `?a=1&b=x` of the defined parameters, in the order given; '' when there are none. */
export function queryString(q: Query = {}): string {
  const parts = Object.entries(q)
    .filter((e): e is [string, string | number | boolean] => e[1] !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

/** Where a resource lives: core (`group` '') is /api/v1, any other group /apis/<group>/<version>. */
export interface ResourcePath {
  group: string;
  version: string;
  plural: string;
  /** Omitted: across all namespaces (or a cluster-scoped resource). */
  namespace?: string;
  name?: string;
  subresource?: string;
}

export function resourcePath(r: ResourcePath): string {
  const seg = encodeURIComponent;
  let p = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  if (r.namespace) p += `/namespaces/${seg(r.namespace)}`;
  p += `/${r.plural}`;
  if (r.name !== undefined) p += `/${seg(r.name)}`;
  if (r.subresource) p += `/${r.subresource}`;
  return p;
}

/** The server's URL path prefix (a proxy may serve the API below one) joined with a request path. */
export function joinPath(serverPath: string, path: string): string {
  return serverPath.replace(/\/+$/, '') + path;
}

/**
 * Splits a byte stream into lines: chunks may end mid-line and mid-character (a multi-byte
 * UTF-8 sequence cut in two). Blank lines are dropped. Linear in the stream's length even when
 * one line arrives in many chunks.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending: string[] = [];

  /** The lines this chunk completes. */
  push(chunk: Buffer | string): string[] {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const nl = text.lastIndexOf('\n');
    if (nl < 0) {
      if (text) this.pending.push(text);
      return [];
    }
    const head = this.pending.join('') + text.slice(0, nl);
    const tail = text.slice(nl + 1);
    this.pending = tail ? [tail] : [];
    return head.split('\n').filter((l) => l.trim() !== '');
  }

  /** At the end of the stream: the last line if it had no newline. */
  end(): string | undefined {
    const last = this.pending.join('') + this.decoder.end();
    this.pending = [];
    return last.trim() ? last : undefined;
  }
}

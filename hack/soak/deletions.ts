// Who deleted a pod: the API server's audit log records every pod deletion and eviction (see
// hack/cluster-up.sh's audit policy). A counter jump the faults do not explain is often a pod that
// vanished; the report names who removed the cluster's pods shortly before it.
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';

export interface Deletion {
  at: number;
  ns: string;
  pod: string;
  /** The user, shortened (system:serviceaccount:kube-system:x → kube-system:x). */
  who: string;
  verb: 'delete' | 'evict';
  code: number;
}

const verbOf = (verb: string, sub: string | undefined): Deletion['verb'] | undefined => {
  if (sub === 'eviction') return 'evict';
  return verb === 'delete' && !sub ? 'delete' : undefined;
};

/** A pod deletion or eviction, if the audit log line is one in `namespaces`. */
function deletionOf(line: string, namespaces: readonly string[]): Deletion | undefined {
  if (!line.includes('"pods"') || !line.endsWith('}')) return undefined;
  const e = JSON.parse(line);
  const r = e.objectRef ?? {};
  if (e.stage !== 'ResponseComplete' || r.resource !== 'pods' || !namespaces.includes(r.namespace)) return undefined;
  const verb = verbOf(e.verb, r.subresource);
  if (!verb || !r.name) return undefined;
  return {
    at: Date.parse(e.requestReceivedTimestamp),
    ns: r.namespace,
    pod: r.name,
    who: String(e.user?.username ?? '?').replace(/^system:serviceaccount:/, ''),
    verb,
    code: e.responseStatus?.code ?? 0,
  };
}

/** Pod deletions and evictions in the audit log, oldest first; lines still being written are skipped. */
export function readDeletions(file: string, namespaces: readonly string[]): Deletion[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((line) => deletionOf(line, namespaces) ?? []);
}

/** The deletions written to the audit log since the last call (a rotated log is read from its start). */
export class DeletionTail {
  private offset = 0;
  private partial = '';

  constructor(
    private readonly file: string,
    private readonly namespaces: readonly string[],
  ) {}

  next(): Deletion[] {
    if (!existsSync(this.file)) return [];
    const size = statSync(this.file).size;
    if (size < this.offset) [this.offset, this.partial] = [0, '']; // rotated
    if (size === this.offset) return [];
    const buf = Buffer.alloc(size - this.offset);
    const fd = openSync(this.file, 'r');
    try {
      readSync(fd, buf, 0, buf.length, this.offset);
    } finally {
      closeSync(fd);
    }
    this.offset = size;
    const lines = (this.partial + buf.toString('utf8')).split('\n');
    this.partial = lines.pop() ?? '';
    return lines.flatMap((line) => deletionOf(line, this.namespaces) ?? []);
  }
}

/**
 * Deletions by which Kubernetes took a pod away: the taint manager's (node-controller) for a
 * node that is (or was, its taint outliving it) not ready or unreachable, and evictions.
 */
export const isDisruption = (d: Deletion): boolean =>
  d.code >= 200 && d.code < 300 && (d.who === 'kube-system:node-controller' || d.verb === 'evict');

/** Deletions of a cluster's pods (named `<cluster>-…`) in the window before `at`, as report lines. */
export function deletionsBefore(all: readonly Deletion[], ns: string, cluster: string, at: number, windowMs: number) {
  return all
    .filter((d) => d.ns === ns && d.pod.startsWith(`${cluster}-`) && d.at <= at && d.at >= at - windowMs)
    .map((d) => `${new Date(d.at).toISOString().slice(11, 23)} ${d.verb} ${d.pod} by ${d.who} → ${d.code}`);
}

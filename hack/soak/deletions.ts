// Who deleted a pod: the API server's audit log records every pod deletion and eviction (see
// hack/cluster-up.sh's audit policy). A counter jump the faults do not explain is often a pod that
// vanished; the report names who removed the cluster's pods shortly before it.
import { existsSync, readFileSync } from 'node:fs';

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

/** Pod deletions and evictions in the audit log, oldest first; lines still being written are skipped. */
export function readDeletions(file: string, namespaces: readonly string[]): Deletion[] {
  if (!existsSync(file)) return [];
  const out: Deletion[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.includes('"pods"') || !line.endsWith('}')) continue;
    const e = JSON.parse(line);
    const r = e.objectRef ?? {};
    if (e.stage !== 'ResponseComplete' || r.resource !== 'pods' || !namespaces.includes(r.namespace)) continue;
    const verb = verbOf(e.verb, r.subresource);
    if (!verb || !r.name) continue;
    out.push({
      at: Date.parse(e.requestReceivedTimestamp),
      ns: r.namespace,
      pod: r.name,
      who: String(e.user?.username ?? '?').replace(/^system:serviceaccount:/, ''),
      verb,
      code: e.responseStatus?.code ?? 0,
    });
  }
  return out;
}

/** Deletions of a cluster's pods (named `<cluster>-…`) in the window before `at`, as report lines. */
export function deletionsBefore(all: readonly Deletion[], ns: string, cluster: string, at: number, windowMs: number) {
  return all
    .filter((d) => d.ns === ns && d.pod.startsWith(`${cluster}-`) && d.at <= at && d.at >= at - windowMs)
    .map((d) => `${new Date(d.at).toISOString().slice(11, 23)} ${d.verb} ${d.pod} by ${d.who} → ${d.code}`);
}

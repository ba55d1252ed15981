// The soak's printed summary.
import type { SoakReport } from './run.ts';

const s = (x: { n: number; p50: number; max: number }) => (x.n ? `p50 ${x.p50} s, max ${x.max} s (n=${x.n})` : '-');

export function formatReport(r: SoakReport): string {
  const kinds = Object.entries(r.faultsByKind)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const injected = Object.values(r.faultsByKind).reduce((a, b) => a + b, 0);
  const skipped = r.faults.filter((f) => f.skipped).length;
  const failed = r.faults.filter((f) => f.error).length;
  const lines = [
    `== soak: seed ${r.seed}, ${r.minutes} min of faults, ${r.clusters} clusters, ${r.jobs} jobs (${r.namespaces.join(', ')})`,
    `faults injected: ${injected}${kinds ? ` (${kinds})` : ''}; skipped ${skipped} (no target), failed ${failed}`,
    ...r.faults.filter((f) => f.error).map((f) => `  failed at +${f.at}s ${f.kind}: ${f.target}: ${f.error}`),
    `invariant violations: ${r.violations.length}`,
    ...r.violations.flatMap((v) => [
      `  ${new Date(v.at).toISOString().slice(11, 19)} ${v.kind}: ${v.object}: ${v.detail}`,
      ...(v.deletions?.length ? ['    its pods deleted in the 2 minutes before (audit log):'] : []),
      ...(v.deletions ?? []).map((d) => `      ${d}`),
    ]),
    r.converged
      ? `converged: all clusters Ready and all jobs finished ${r.convergenceSeconds} s after the faults stopped`
      : `NOT converged within the bound; still pending: ${r.pending.join(', ')}`,
    ...r.pendingDetails.map((d) => `  ${d}`),
    `  clusters Ready after: ${s(r.clusterReadySeconds)}`,
    `  jobs finished after: ${s(r.jobFinishedSeconds)}`,
    `jobs: ${Object.entries(r.jobOutcomes)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}`,
    `leaderless gaps: ${s(r.leaderlessSeconds)}; operator starts ${r.operatorStarts}, exits by itself ${r.operatorSelfExits}`,
    `control-plane components restarted after they exited: ${r.componentRestarts.length}`,
    ...r.componentRestarts.map((c) => `  at +${c.at}s ${c.name}: ${c.why}`),
    `snapshots: ${r.snapshots} (${r.snapshotFailures} failed while the API server was away)`,
  ];
  return lines.join('\n');
}

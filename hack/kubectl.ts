// Where hack/ scripts and integration tests find kubectl and the local cluster's kubeconfig.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CLUSTER_DIR = process.env.GAFFER_CLUSTER_DIR ?? `${ROOT}.cluster`;
export const KUBECONFIG = process.env.GAFFER_KUBECONFIG ?? `${CLUSTER_DIR}/kubeconfig`;

export function kubectlPath(): string {
  const local = `${CLUSTER_DIR}/bin/kubectl`;
  if (!existsSync(local)) throw new Error(`${local} is missing: run npm run cluster:up first`);
  return local;
}

export const kubectlArgs = (): string[] => ['--kubeconfig', KUBECONFIG];

/**
 * The pid (and start time) that cluster-up.sh or cluster-restart.sh recorded last for a
 * control-plane component (run/pids), to pause, stop or restart it by pid, never by name.
 */
export function componentProcess(name: string): { pid: number; start?: string } | undefined {
  const pids = `${CLUSTER_DIR}/run/pids`;
  if (!existsSync(pids)) return undefined;
  const last = readFileSync(pids, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith(`${name} `))
    .pop();
  if (!last) return undefined;
  const [, pid, start] = last.split(' ');
  return { pid: Number(pid), start: start || undefined };
}

/** A process's start time (/proc/<pid>/stat field 22), as hack/lib.sh records it; undefined when it is gone. */
export function procStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** The recorded pid of a component if that process still runs (same start time: pids are reused). */
export function runningComponentPid(name: string): number | undefined {
  const p = componentProcess(name);
  if (!p) return undefined;
  const start = procStart(p.pid);
  return start !== undefined && (p.start === undefined || start === p.start) ? p.pid : undefined;
}

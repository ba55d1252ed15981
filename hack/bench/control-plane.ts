// The benchmark's control plane: the local cluster of GAFFER_CLUSTER_DIR (started if needed),
// KWOK nodes for the pods, and kube-scheduler and KWOK restarted with raised client limits
// (restored afterwards with their original command lines).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLUSTER_DIR, ROOT } from '../kubectl.ts';
import { k, kubectl } from '../local-cluster.ts';
import type { Api } from './api.ts';

export const RUN = join(CLUSTER_DIR, 'run');
export const PODS_PER_NODE = 110;
const BENCH_NODE_PREFIX = 'kwok-bench-';

/** The client limits the benchmark gives kube-scheduler (kwokctl's "unlimited" values). */
export const SCHEDULER_QPS = 5000;
export const SCHEDULER_BURST = 10000;
export const KWOK_PARALLELISM = 32;

const bash = (script: string) =>
  execFileSync('bash', ['-c', script], {
    cwd: ROOT,
    env: { ...process.env, GAFFER_CLUSTER_DIR: CLUSTER_DIR },
    stdio: ['ignore', 'inherit', 'inherit'],
  });

/** Stops one component (by the pid cluster-up.sh recorded) and starts it with `cmd` (shell words). */
function restartComponent(name: string, cmd: string): void {
  const pid = readFileSync(join(RUN, 'pids'), 'utf8')
    .split('\n')
    .map((l) => l.split(' '))
    .filter(([n]) => n === name)
    .pop()?.[1];
  if (!pid) throw new Error(`no ${name} in ${RUN}/pids`);
  try {
    process.kill(Number(pid), 'SIGTERM');
  } catch {
    /* already gone */
  }
  for (let i = 0; i < 50; i++) {
    try {
      process.kill(Number(pid), 0);
      execFileSync('sleep', ['0.1']);
    } catch {
      break;
    }
  }
  // A new kwok waits for the old one's node leases to expire (40 s) before it plays pods on
  // those nodes; the old one is gone, so its leases go too and the new one takes over at once.
  if (name === 'kwok')
    execFileSync(
      join(CLUSTER_DIR, 'bin/kubectl'),
      ['--kubeconfig', join(CLUSTER_DIR, 'kubeconfig'), '-n', 'kube-node-lease', 'delete', 'lease', '--all'],
      { stdio: 'ignore' },
    );
  const log = join(CLUSTER_DIR, 'logs', `${name}.log`);
  if (existsSync(log)) renameSync(log, `${log}.1`);
  // cluster-lib.sh's start() records the new pid (so cluster-down.sh stops it) and the command line.
  bash(
    `set -euo pipefail; LOG_PREFIX=bench; source hack/lib.sh; RUN=$CLUSTER_DIR/run LOGS=$CLUSTER_DIR/logs; ` +
      `source hack/cluster-lib.sh; start ${name} ${cmd}; eval "wait_for ${name} 60 $(cat "$RUN/${name}.health")"`,
  );
}

export interface Limits {
  scheduler: string;
  kwok: string;
  restore(): void;
}

/**
 * kube-scheduler: a copy of its config with clientConnection qps/burst raised. KWOK: its client
 * has no rate limiter already (kwok v0.8.0 sets a fake always-allow limiter); the pod stage
 * parallelism (default 4) is raised with a second --config holding a KwokConfiguration.
 */
export function raiseLimits(): Limits {
  const schedCmd = readFileSync(join(RUN, 'kube-scheduler.cmd'), 'utf8').trim();
  const kwokCmd = readFileSync(join(RUN, 'kwok.cmd'), 'utf8').trim();
  const schedConfig = join(RUN, 'scheduler-bench.yaml');
  writeFileSync(
    schedConfig,
    `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: ${join(CLUSTER_DIR, 'kubeconfig')}
  qps: ${SCHEDULER_QPS}
  burst: ${SCHEDULER_BURST}
leaderElection:
  leaderElect: false
`,
  );
  const kwokConfig = join(RUN, 'kwok-bench.yaml');
  writeFileSync(
    kwokConfig,
    `apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokConfiguration
options:
  podPlayStageParallelism: ${KWOK_PARALLELISM}
  nodePlayStageParallelism: 8
  nodeLeaseParallelism: 8
  podsOnNodeSyncParallelism: 4
`,
  );
  const newSched = schedCmd.replace(/--config=\S+/, `--config=${schedConfig}`);
  const newKwok = `${kwokCmd} --config=${kwokConfig}`;
  restartComponent('kube-scheduler', newSched);
  restartComponent('kwok', newKwok);
  let restored = false;
  return {
    scheduler: `kube-scheduler restarted with clientConnection qps ${SCHEDULER_QPS}, burst ${SCHEDULER_BURST} (default 50/100)`,
    kwok: `kwok restarted with podPlayStageParallelism ${KWOK_PARALLELISM} (default 4); its client has no rate limit`,
    restore() {
      if (restored) return;
      restored = true;
      restartComponent('kube-scheduler', schedCmd);
      restartComponent('kwok', kwokCmd);
    },
  };
}

/** Adds KWOK nodes (110 pods each) until `pods` fit with 10% slack; returns how many it added. */
export async function ensureNodes(api: Api, pods: number): Promise<{ total: number; added: number }> {
  const nodes = (await api.list('/api/v1/nodes')).items;
  const existing = new Set(nodes.map((n) => n.metadata.name as string));
  const need = Math.ceil((pods * 1.1) / PODS_PER_NODE) + 1;
  let added = 0;
  for (let i = 0; existing.size + added < need; i++) {
    const name = `${BENCH_NODE_PREFIX}${i}`;
    if (existing.has(name)) continue;
    await api.req('POST', '/api/v1/nodes', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'kwok.x-k8s.io/node': 'fake' },
        labels: { type: 'kwok', 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' },
      },
      status: {
        allocatable: { cpu: '32', memory: '256Gi', pods: String(PODS_PER_NODE) },
        capacity: { cpu: '32', memory: '256Gi', pods: String(PODS_PER_NODE) },
      },
    });
    added++;
  }
  if (added) await k(['wait', '--for=condition=Ready', 'node', '--all', '--timeout=120s']);
  return { total: existing.size + added, added };
}

export async function deleteBenchNodes(api: Api): Promise<void> {
  for (const n of (await api.list('/api/v1/nodes')).items)
    if (n.metadata.name.startsWith(BENCH_NODE_PREFIX)) await api.raw('DELETE', `/api/v1/nodes/${n.metadata.name}`);
}

/** Creates one pod and waits until it is Running: the scheduler and KWOK are working. */
export async function warmUp(api: Api, ns: string, timeoutMs = 120_000): Promise<number> {
  const t0 = Date.now();
  const path = `/api/v1/namespaces/${ns}/pods`;
  await api.req('POST', path, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'warm-up' },
    spec: { containers: [{ name: 'w', image: 'registry.invalid/w:1' }] },
  });
  while ((await api.req('GET', `${path}/warm-up`)).status?.phase !== 'Running') {
    if (Date.now() - t0 > timeoutMs) throw new Error('warm-up pod not Running: kube-scheduler or kwok not working');
    await new Promise((r) => setTimeout(r, 200));
  }
  await api.req('DELETE', `${path}/warm-up?gracePeriodSeconds=0`);
  return (Date.now() - t0) / 1000;
}

/** A namespace ready for pods (its default ServiceAccount exists). */
export async function createNamespace(api: Api, name: string): Promise<string> {
  await api.req('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, [409]);
  for (let i = 0; i < 240; i++) {
    if ((await api.raw('GET', `/api/v1/namespaces/${name}/serviceaccounts/default`)).status === 200) return name;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no default ServiceAccount in ${name}`);
}

/** Deletes the pods (grace 0) and the namespace, and waits until the namespace is gone. */
export async function deleteNamespace(api: Api, name: string, timeoutMs = 600_000): Promise<void> {
  const ns = `/api/v1/namespaces/${name}`;
  // Deleting 10,000 pods takes the server longer than its 60 s request timeout, which then ends
  // the call ("socket hang up"); the namespace's own deletion removes what is left, so go on.
  await api.raw('DELETE', `${ns}/pods?gracePeriodSeconds=0`).catch(() => undefined);
  await api.raw('DELETE', ns);
  const deadline = Date.now() + timeoutMs;
  while ((await api.raw('GET', ns)).status !== 404) {
    if (Date.now() > deadline) throw new Error(`namespace ${name} still there after ${timeoutMs / 1000}s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** A ServiceAccount allowed to GET ConfigMaps in `ns`, for the latency probe; returns a kubeconfig. */
export async function probeAccount(ns: string): Promise<string> {
  await kubectl(['-n', ns, 'create', 'serviceaccount', 'bench-probe']);
  await kubectl(['-n', ns, 'create', 'configmap', 'bench-probe', '--from-literal=k=v']);
  await kubectl(['-n', ns, 'create', 'role', 'bench-probe', '--verb=get', '--resource=configmaps']);
  await kubectl([
    '-n',
    ns,
    'create',
    'rolebinding',
    'bench-probe',
    '--role=bench-probe',
    `--serviceaccount=${ns}:bench-probe`,
  ]);
  const { serviceAccountKubeconfig } = await import('../local-cluster.ts');
  return serviceAccountKubeconfig(ns, 'bench-probe');
}

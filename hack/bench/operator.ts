// The operator as its image runs it: compiled (npm run build), `node dist/src/cli.js operator`,
// with default flags except the kubeconfig, --leader-elect=false, the watched namespaces and
// loopback ports. Samples its /proc entry (RSS, peak RSS, CPU) and its /metrics.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { CLUSTER_DIR, ROOT } from '../kubectl.ts';
import type { MemoryCgroup } from './cgroup.ts';

export const ENTRY = join(ROOT, 'dist/src/cli.js');
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

export function build(): void {
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (!existsSync(ENTRY)) throw new Error(`${ENTRY} missing after npm run build`);
}

export interface ProcSample {
  rssMiB: number;
  /** Of the RSS: anonymous memory (heap, malloc) and file pages (the node binary, libraries). */
  rssAnonMiB: number;
  rssFileMiB: number;
  hwmMiB: number;
  cpuSeconds: number;
}

export function procSample(pid: number): ProcSample | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
    // Fields after the parenthesised command: state is field 3, utime 14, stime 15.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      rssMiB: kb('VmRSS') / 1024,
      rssAnonMiB: kb('RssAnon') / 1024,
      rssFileMiB: kb('RssFile') / 1024,
      hwmMiB: kb('VmHWM') / 1024,
      cpuSeconds: (Number(f[11]) + Number(f[12])) / CLK_TCK,
    };
  } catch {
    return undefined;
  }
}

/** Prometheus text -> samples: name, labels, value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[4]) });
  }
  return out;
}

/** rest_client_requests_total summed by `verb` or `verb resource`. */
export function requestsBy(samples: Sample[], key: (l: Record<string, string>) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const s of samples)
    if (s.name === 'rest_client_requests_total') m.set(key(s.labels), (m.get(key(s.labels)) ?? 0) + s.value);
  return m;
}

export function diff(after: Map<string, number>, before: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of [...after].sort()) if (v - (before.get(k) ?? 0) > 0) out[k] = v - (before.get(k) ?? 0);
  return out;
}

export class Operator {
  readonly child: ChildProcess;
  readonly pid: number;
  peakRssMiB = 0;
  peakHeapMiB = 0;
  private timer: NodeJS.Timeout;
  private metricsTimer: NodeJS.Timeout;
  private exited = false;

  constructor(
    readonly kubeconfig: string,
    readonly namespaces: string[],
    readonly healthPort: number,
    readonly metricsPort: number,
    /** Extra operator flags (bench --operator-args) and Node flags for the operator alone. */
    readonly extra: { args: string[]; nodeOptions: string; cgroup?: MemoryCgroup } = { args: [], nodeOptions: '' },
  ) {
    const log = createWriteStream(join(CLUSTER_DIR, 'logs', 'bench-operator.log'), { flags: 'a' });
    const argv = [
      process.execPath,
      ENTRY,
      'operator',
      `--kubeconfig=${kubeconfig}`,
      '--leader-elect=false',
      `--namespaces=${namespaces.join(',')}`,
      '--bind-address=127.0.0.1',
      `--health-port=${healthPort}`,
      `--metrics-port=${metricsPort}`,
      ...extra.args,
    ];
    // In the memory cgroup (the Pod's limit) when there is one: the shell enters it and execs
    // node, so the pid sampled below is the operator's.
    const [cmd, ...rest] = extra.cgroup ? extra.cgroup.enterAndExec(argv) : argv;
    this.child = spawn(cmd!, rest, {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Node flags for the operator alone (e.g. the heap limit a container's memory limit would
      // give it, or --cpu-prof), not for the benchmark process.
      env: { ...process.env, HOSTNAME: 'gaffer-bench', NODE_OPTIONS: extra.nodeOptions },
    });
    this.child.stdout!.pipe(log);
    this.child.stderr!.pipe(log);
    this.child.on('exit', () => (this.exited = true));
    this.pid = this.child.pid!;
    this.timer = setInterval(() => {
      const s = procSample(this.pid);
      if (s) this.peakRssMiB = Math.max(this.peakRssMiB, s.rssMiB);
    }, 200);
    this.metricsTimer = setInterval(() => {
      this.metrics()
        .then((m) => (this.peakHeapMiB = Math.max(this.peakHeapMiB, heapMiB(m))))
        .catch(() => {});
    }, 2000);
  }

  get(port: number, path: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      // agent: false, a connection per request: a pooled keep-alive socket that the server closes
      // just as it is reused fails with "socket hang up" (seen after a 300 s steady-state window).
      const req = get({ host: '127.0.0.1', port, path, timeout: 10_000, agent: false }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error('timeout')));
    });
  }

  async waitReady(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.exited) throw new Error('operator exited; see logs/bench-operator.log');
      try {
        if ((await this.get(this.healthPort, '/readyz')).status === 200) return;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > deadline) throw new Error('operator not ready');
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async metrics(): Promise<Sample[]> {
    return parseMetrics((await this.get(this.metricsPort, '/metrics')).body);
  }

  proc(): ProcSample | undefined {
    return procSample(this.pid);
  }

  resetPeaks(): void {
    this.peakRssMiB = this.proc()?.rssMiB ?? 0;
    this.peakHeapMiB = 0;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.metricsTimer);
    if (this.exited) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 35_000);
    await gone;
    clearTimeout(t);
  }
}

const metricMiB = (m: Sample[], name: string) => (m.find((s) => s.name === name)?.value ?? 0) / 2 ** 20;
export const heapMiB = (m: Sample[]) => metricMiB(m, 'nodejs_heap_size_used_bytes');
/** The V8 heap the process holds (used plus free and garbage), and memory outside it (Buffers). */
export const heapTotalMiB = (m: Sample[]) => metricMiB(m, 'nodejs_heap_size_total_bytes');
export const externalMiB = (m: Sample[]) => metricMiB(m, 'nodejs_external_memory_bytes');

/**
 * Writes a heap snapshot (the operator runs with --heapsnapshot-signal=SIGUSR2) and waits until
 * the file is complete; returns its path. V8 collects garbage first, so it shows what is retained.
 */
export async function heapSnapshot(pid: number, dir: string, timeoutMs = 120_000): Promise<string> {
  const before = new Set(readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  for (;;) {
    await new Promise((r) => setTimeout(r, 1000));
    const file = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    const size = file ? statSync(join(dir, file)).size : -1;
    if (file && size > 0 && size === last) return join(dir, file);
    last = size;
    if (Date.now() > deadline) throw new Error(`no heap snapshot in ${dir} after ${timeoutMs / 1000}s`);
  }
}

// The soak's operator: two replicas of the compiled operator (dist/, as the image runs it) with
// leader election, as the chart's Deployment runs it, talking to the API server through the
// fault proxy. A replica that exits is started again, as the kubelet restarts a container: after
// the delay a fault chose, or after 1 s when it exited by itself.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { freePort } from '../processes.ts';
import { join } from 'node:path';
import { CLUSTER_DIR, ROOT } from '../kubectl.ts';
import { OPERATOR_NAMESPACE } from '../local-cluster.ts';
import { ENTRY, parseMetrics } from '../bench/operator.ts';

export { freePort };

export interface ReplicaOptions {
  kubeconfig: string;
  namespaces: string[];
  electionId: string;
  /** More operator flags (--operator-args). */
  args: string[];
  log: (s: string) => void;
}

export class Replica {
  child: ChildProcess | undefined;
  /** Starts, by us or by the supervisor, including the first. */
  starts = 0;
  /** Exits nobody asked for (the operator gave up by itself), with their codes. */
  readonly selfExits: (number | string)[] = [];
  private downUntil = 0;
  private stopping = false;
  private expectExit = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private healthPort = 0;
  private metricsPort = 0;
  private readonly out: WriteStream;

  constructor(
    readonly name: string,
    private readonly o: ReplicaOptions,
  ) {
    this.out = createWriteStream(join(CLUSTER_DIR, 'logs', `soak-operator-${name}.log`), { flags: 'a' });
  }

  get alive(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.alive ? this.child!.pid : undefined;
  }

  async start(): Promise<void> {
    if (this.stopping || this.alive) return;
    this.healthPort = await freePort();
    this.metricsPort = await freePort();
    const child = spawn(
      process.execPath,
      [
        ENTRY,
        'operator',
        `--kubeconfig=${this.o.kubeconfig}`,
        '--leader-elect=true',
        `--leader-election-namespace=${OPERATOR_NAMESPACE}`,
        `--leader-election-id=${this.o.electionId}`,
        `--namespaces=${this.o.namespaces.join(',')}`,
        '--bind-address=127.0.0.1',
        `--health-port=${this.healthPort}`,
        `--metrics-port=${this.metricsPort}`,
        ...this.o.args,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOSTNAME: `soak-${this.name}` } },
    );
    this.child = child;
    this.starts++;
    this.expectExit = false;
    child.stdout!.pipe(this.out, { end: false });
    child.stderr!.pipe(this.out, { end: false });
    child.on('exit', (code, sig) => this.exited(child, code ?? sig ?? '?'));
  }

  private exited(child: ChildProcess, code: number | string): void {
    if (child !== this.child || this.stopping) return;
    if (!this.expectExit) {
      this.selfExits.push(code);
      this.o.log(`operator ${this.name} exited by itself (${code}); restarting it in 1 s`);
    }
    const delay = Math.max(1000, this.downUntil - Date.now());
    this.restartTimer = setTimeout(
      () => void this.start().catch((e) => this.o.log(`restart ${this.name}: ${e}`)),
      delay,
    );
  }

  /** Sends a signal; the replica is started again `downMs` later (counted from now). */
  kill(sig: NodeJS.Signals, downMs: number): boolean {
    if (!this.alive) return false;
    this.downUntil = Date.now() + downMs;
    this.expectExit = true;
    this.child!.kill(sig);
    return true;
  }

  private async get(path: string): Promise<string> {
    const r = await fetch(`http://127.0.0.1:${this.metricsPort}${path}`, { signal: AbortSignal.timeout(2000) });
    return r.text();
  }

  /** Whether it reports leading (leader_election_master_status); false when it does not answer. */
  async leads(): Promise<boolean> {
    if (!this.alive) return false;
    try {
      const m = parseMetrics(await this.get('/metrics'));
      return m.some((s) => s.name === 'leader_election_master_status' && s.value === 1);
    } catch {
      return false;
    }
  }

  /** Ends it for good: SIGTERM, then SIGKILL after 10 s. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(t);
    }
    this.out.end();
  }

  /** Brings it back now if it is down (the faults have stopped). */
  async resume(): Promise<void> {
    this.downUntil = 0;
    if (this.alive) return;
    clearTimeout(this.restartTimer);
    await this.start();
  }
}

/** Both replicas' leadership in one round. */
export async function leadership(replicas: Replica[]): Promise<{ name: string; leads: boolean }[]> {
  return Promise.all(replicas.map(async (r) => ({ name: r.name, leads: await r.leads() })));
}

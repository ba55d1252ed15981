// Runs the operator (src/main.ts) as a separate process for integration tests, the way
// `npm start` runs it, and reads its health, metrics and JSON logs.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../../hack/kubectl.ts';
import { OPERATOR_KUBECONFIG, waitFor } from './cluster.ts';

let nextPort = 19000 + Math.floor(Math.random() * 500) * 4;

export class OperatorProcess {
  readonly healthPort = nextPort++;
  readonly metricsPort = nextPort++;
  readonly child: ChildProcess;
  readonly logs: any[] = [];
  exitCode: number | null | undefined;
  private exited: Promise<number | null>;

  /** Runs with the chart's ServiceAccount unless given another kubeconfig. */
  constructor(args: string[], opts: { kubeconfig?: string } = {}) {
    this.child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'src/main.ts'),
        '--kubeconfig',
        opts.kubeconfig ?? OPERATOR_KUBECONFIG,
        '--bind-address',
        '127.0.0.1',
        '--health-port',
        String(this.healthPort),
        '--metrics-port',
        String(this.metricsPort),
        ...args,
      ],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, HOSTNAME: `test-${this.healthPort}` },
      },
    );
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          this.logs.push(JSON.parse(line));
        } catch {
          this.logs.push({ raw: line });
        }
      }
    };
    this.child.stdout!.on('data', onData);
    this.child.stderr!.on('data', onData);
    this.exited = new Promise((r) =>
      this.child.on('exit', (code) => {
        this.exitCode = code;
        r(code);
      }),
    );
  }

  get identity(): string | undefined {
    return this.logs.find((l) => l.message === 'operator started')?.identity;
  }

  async get(port: number, path: string): Promise<{ status: number; body: string }> {
    const r = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: r.status, body: await r.text() };
  }

  readyz() {
    return this.get(this.healthPort, '/readyz');
  }

  async metric(name: string, labels = ''): Promise<number | undefined> {
    const { body } = await this.get(this.metricsPort, '/metrics');
    const line = body
      .split('\n')
      .find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `) || (!labels && l.startsWith(`${name}{`)));
    return line ? Number(line.split(' ').pop()) : undefined;
  }

  async isLeader(): Promise<boolean> {
    try {
      return (await this.metric('leader_election_master_status', 'name="gaffer"')) === 1;
    } catch {
      return false;
    }
  }

  async started(): Promise<void> {
    await waitFor(
      'operator started',
      async () =>
        this.exitCode === undefined
          ? !!this.identity
          : Promise.reject(new Error(`operator exited ${this.exitCode}: ${JSON.stringify(this.logs.slice(-5))}`)),
      60_000,
    );
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  wait(): Promise<number | null> {
    return this.exited;
  }

  async stop(): Promise<void> {
    if (this.exitCode !== undefined) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

export { serviceAccountKubeconfig } from './cluster.ts';

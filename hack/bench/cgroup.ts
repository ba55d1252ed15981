// The operator's memory limit, as its Pod has it: the benchmark runs the operator in a memory
// cgroup with the chart's limit (resources.limits.memory). Node sizes its heap from that limit
// (a 512Mi container gets a heap limit of about 259 MiB, an unconstrained process on this machine
// about 4 GiB), so without it the benchmark would measure a garbage collector no Pod runs, and
// would not see an OOM kill. The cgroup is made under the benchmark's own one (cgroup v2 or the
// v1 memory hierarchy) and removed by name when the run ends.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from '../kubectl.ts';

const UNITS: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, K: 1e3, M: 1e6, G: 1e9, '': 1 };

/** A Kubernetes memory quantity (512Mi, 1G, 268435456) in bytes. */
export function quantityBytes(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?$/.exec(q.trim());
  if (!m) throw new Error(`not a memory quantity: ${q} (use e.g. 512Mi)`);
  return Math.round(Number(m[1]) * UNITS[m[2] ?? '']!);
}

/** resources.limits.memory of charts/gaffer/values.yaml, the limit the chart gives the operator. */
export function chartMemoryLimit(): string {
  const values = parse(readFileSync(join(ROOT, 'charts/gaffer/values.yaml'), 'utf8'));
  const limit = values?.resources?.limits?.memory;
  if (typeof limit !== 'string') throw new Error('charts/gaffer/values.yaml has no resources.limits.memory');
  return limit;
}

/** The directory of this process's own memory cgroup (v2 unified, else the v1 memory hierarchy). */
function ownMemoryCgroup(): { dir: string; v2: boolean } {
  const lines = readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n');
  const v1 = lines.map((l) => l.split(':')).find(([, ctrl]) => ctrl?.split(',').includes('memory'));
  if (v1 && existsSync('/sys/fs/cgroup/memory')) return { dir: join('/sys/fs/cgroup/memory', v1[2]!), v2: false };
  const v2 = lines.map((l) => l.split(':')).find(([id]) => id === '0');
  const root = existsSync('/sys/fs/cgroup/cgroup.controllers') ? '/sys/fs/cgroup' : '/sys/fs/cgroup/unified';
  if (v2 && existsSync(join(root, 'cgroup.controllers'))) return { dir: join(root, v2[2]!), v2: true };
  throw new Error('no memory cgroup found (needs cgroup v2 or the v1 memory controller)');
}

export class MemoryCgroup {
  readonly dir: string;
  private readonly v2: boolean;

  /** Makes the cgroup `name` with a memory limit of `bytes` (swap is not limited: none is on here). */
  constructor(
    name: string,
    readonly bytes: number,
  ) {
    const own = ownMemoryCgroup();
    this.v2 = own.v2;
    this.dir = join(own.dir, name);
    mkdirSync(this.dir);
    try {
      if (this.v2 && !existsSync(join(this.dir, 'memory.max')))
        throw new Error(
          `cgroup v2: the memory controller is not enabled for ${this.dir} (add +memory to its parent's cgroup.subtree_control), or run with --memory-limit 0`,
        );
      writeFileSync(join(this.dir, this.v2 ? 'memory.max' : 'memory.limit_in_bytes'), String(bytes));
    } catch (e) {
      this.release();
      throw e;
    }
  }

  /** A shell prefix that moves the shell into the cgroup before it execs the command. */
  enterAndExec(argv: string[]): string[] {
    const quoted = argv.map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(' ');
    return ['/bin/sh', '-c', `echo $$ > '${join(this.dir, 'cgroup.procs')}' && exec ${quoted}`];
  }

  /** Times the kernel's OOM killer acted in the cgroup (0 when it never had to). */
  oomKills(): number {
    try {
      const file = this.v2 ? 'memory.events' : 'memory.oom_control';
      const text = readFileSync(join(this.dir, file), 'utf8');
      return Number(/oom_kill (\d+)/.exec(text)?.[1] ?? 0);
    } catch {
      return 0;
    }
  }

  /**
   * Kills what is still in the cgroup (an operator the benchmark started: its pids are read
   * from the cgroup it made) and removes the cgroup, waiting up to 5 s for the processes to go.
   * Synchronous, so it also runs from an exit handler; never throws.
   */
  release(): void {
    const procs = join(this.dir, 'cgroup.procs');
    for (let tries = 0; existsSync(this.dir) && tries < 50; tries++) {
      try {
        for (const pid of readFileSync(procs, 'utf8').split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
        rmdirSync(this.dir);
      } catch {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100); // a synchronous 100 ms
      }
    }
    if (existsSync(this.dir)) console.error(`[bench] could not remove the cgroup ${this.dir}; remove it with rmdir`);
  }
}

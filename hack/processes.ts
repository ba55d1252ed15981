// Processes hack/ starts beside the control plane: a free loopback port for them, and their stop by pid.
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** A free loopback port (bound and released: the process started next binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A child process started by hack/, stopped by its pid (never by name). */
export interface Tracked {
  pid: number;
  /** Its exit code once it has exited (null: by a signal); undefined while it runs. */
  exitCode(): number | null | undefined;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs: number): Promise<void>;
}

export function track(child: ChildProcess): Tracked {
  const pid = child.pid!;
  let exited: number | null | undefined;
  const gone = new Promise<void>((r) =>
    child.on('exit', (code) => {
      exited = code;
      r();
    }),
  );
  return {
    pid,
    exitCode: () => exited,
    async stop(graceMs) {
      if (exited !== undefined) return;
      process.kill(pid, 'SIGTERM');
      const done = await Promise.race([gone.then(() => true), new Promise((r) => setTimeout(() => r(false), graceMs))]);
      if (!done && exited === undefined) process.kill(pid, 'SIGKILL');
      await gone;
    },
  };
}

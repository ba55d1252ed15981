// Access to the real local control plane for integration tests: starts it if needed
// (hack/cluster-up.sh reuses a running one), installs the CRDs, and wraps kubectl.
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { CLUSTER_DIR, KUBECONFIG, ROOT } from '../../hack/kubectl.ts';

export interface Result { code: number; stdout: string; stderr: string }

export function kubectl(args: string[], input?: string): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(`${CLUSTER_DIR}/bin/kubectl`, ['--kubeconfig', KUBECONFIG, ...args], { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as any).code === 'number' ? (err as any).code : 1) : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** kubectl that must succeed; returns stdout. */
export async function k(args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

export async function kjson<T = any>(args: string[]): Promise<T> {
  return JSON.parse(await k([...args, '-o', 'json'])) as T;
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as T;
    } catch (e) { last = e; }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

let ready: Promise<void> | undefined;
/** Brings the control plane up once per test run and installs the CRDs from crds/. */
export function ensureCluster(): Promise<void> {
  ready ??= (async () => {
    execFileSync('bash', [`${ROOT}hack/cluster-up.sh`], { stdio: ['ignore', 'inherit', 'inherit'] });
    await k(['apply', '--server-side', '--force-conflicts', '-f', `${ROOT}crds/`]);
    await k(['wait', '--for=condition=Established', 'crd/computeclusters.compute.gaffer.dev', 'crd/computejobs.compute.gaffer.dev', '--timeout=60s']);
  })();
  return ready;
}

/** A fresh namespace for one test file, deleted afterwards (without waiting). */
export async function testNamespace(prefix: string): Promise<string> {
  const ns = `${prefix}-${randomBytes(3).toString('hex')}`;
  await k(['create', 'namespace', ns]);
  await waitFor(`default ServiceAccount in ${ns}`, async () => (await kubectl(['-n', ns, 'get', 'serviceaccount', 'default'])).code === 0);
  return ns;
}

export async function deleteNamespace(ns: string): Promise<void> {
  await kubectl(['delete', 'namespace', ns, '--wait=false']);
}

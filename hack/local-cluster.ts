// Access to the real local control plane for the demo, the benchmark and the integration
// tests: starts it if needed (cluster-up.sh reuses a running one), installs the CRDs and the
// chart's RBAC, and wraps kubectl.
import { execFile, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { CLUSTER_DIR, KUBECONFIG, ROOT } from './kubectl.ts';

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export function kubectl(args: string[], input?: string): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(
      `${CLUSTER_DIR}/bin/kubectl`,
      ['--kubeconfig', KUBECONFIG, ...args],
      { maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        // execFile's error carries the exit code; one without (a signal, a spawn failure) is 1.
        const exit = (err as { code?: unknown } | null)?.code;
        let code = 0;
        if (err) code = typeof exit === 'number' ? exit : 1;
        resolve({ code, stdout, stderr });
      },
    );
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

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as T;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Where the operator runs locally: the chart's ServiceAccount in the release namespace. */
export const OPERATOR_NAMESPACE = 'gaffer-system';
export const OPERATOR_KUBECONFIG = join(CLUSTER_DIR, 'gaffer-operator.kubeconfig');
/**
 * A second ServiceAccount with the chart's permissions whose writes the API server's audit log
 * records (hack/cluster-up.sh's audit policy names it): for tests that prove who wrote what, and
 * when. The operator's User-Agent names its replica, so the log tells replicas apart.
 */
export const AUDITED_OPERATOR_SA = 'gaffer-audited';
export const AUDITED_OPERATOR_KUBECONFIG = join(CLUSTER_DIR, 'gaffer-audited.kubeconfig');
/** The API server's audit log (JSON lines), see hack/cluster-up.sh. */
export const AUDIT_LOG = join(CLUSTER_DIR, 'logs', 'audit.log');

let ready: Promise<void> | undefined;
/**
 * Brings the control plane up once per test run, installs the CRDs from crds/, and the
 * chart's ServiceAccount and RBAC exactly as `helm template` renders them, so operators in
 * tests run with the chart's permissions (a permission missing from the chart fails a test).
 */
export function ensureCluster(): Promise<void> {
  ready ??= (async () => {
    execFileSync('bash', [`${ROOT}hack/cluster-up.sh`], { stdio: ['ignore', 'inherit', 'inherit'] });
    await k(['apply', '--server-side', '--force-conflicts', '-f', `${ROOT}crds/`]);
    // Not `kubectl wait --for=condition=Established`: it fails at once ("status.conditions
    // accessor error") instead of waiting when a just-created CRD has no status yet.
    await waitFor('the CRDs Established', async () => {
      const crds = await kjson<{ items: { status?: { conditions?: { type: string; status: string }[] } }[] }>([
        'get',
        'crd',
        'computeclusters.compute.gaffer.dev',
        'computejobs.compute.gaffer.dev',
      ]);
      const established = (c: (typeof crds.items)[number]) =>
        !!c.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True');
      return crds.items.length === 2 && crds.items.every(established);
    });
    await kubectl(['create', 'namespace', OPERATOR_NAMESPACE]);
    const rendered = execFileSync(
      `${CLUSTER_DIR}/bin/helm`,
      // With the Kueue integration's RBAC: the Kueue tests run an operator with --kueue.
      ['template', 'gaffer', `${ROOT}charts/gaffer`, '-n', OPERATOR_NAMESPACE, '--set', 'crds.install=false'].concat([
        '--set',
        'integrations.kueue.enabled=true',
      ]),
      { encoding: 'utf8' },
    );
    const rbacKinds = new Set(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);
    const rbac = parseAllDocuments(rendered)
      .map((d) => d.toJS())
      .filter((o) => o && rbacKinds.has(o.kind))
      .map(withAuditedSubject);
    await k(['apply', '--server-side', '--force-conflicts', '-f', '-'], rbac.map((o) => JSON.stringify(o)).join('\n'));
    await kubectl(['create', 'serviceaccount', AUDITED_OPERATOR_SA, '-n', OPERATOR_NAMESPACE]);
    await serviceAccountKubeconfig(OPERATOR_NAMESPACE, 'gaffer', OPERATOR_KUBECONFIG);
    await serviceAccountKubeconfig(OPERATOR_NAMESPACE, AUDITED_OPERATOR_SA, AUDITED_OPERATOR_KUBECONFIG);
  })();
  return ready;
}

/** A chart binding granted to the audited ServiceAccount too, so it has exactly the chart's permissions. */
function withAuditedSubject(o: { kind: string; subjects?: object[] }) {
  if (!o.kind.endsWith('Binding')) return o;
  return {
    ...o,
    subjects: [
      ...(o.subjects ?? []),
      { kind: 'ServiceAccount', name: AUDITED_OPERATOR_SA, namespace: OPERATOR_NAMESPACE },
    ],
  };
}

/** A kubeconfig that authenticates as a ServiceAccount (so RBAC applies, unlike the admin's). */
export async function serviceAccountKubeconfig(
  namespace: string,
  sa: string,
  file = join(CLUSTER_DIR, `sa-${namespace}-${sa}.kubeconfig`),
): Promise<string> {
  const token = (await k(['create', 'token', sa, '-n', namespace, '--duration=24h'])).trim();
  const server = (await k(['config', 'view', '--minify', '-o', 'jsonpath={.clusters[0].cluster.server}'])).trim();
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: '${server}', certificate-authority: '${CLUSTER_DIR}/pki/ca.crt'}
users:
- name: ${sa}
  user: {token: '${token}'}
contexts:
- name: local
  context: {cluster: local, user: ${sa}, namespace: ${namespace}}
current-context: local
`,
  );
  return file;
}

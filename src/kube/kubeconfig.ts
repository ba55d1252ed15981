// Which API server and which credentials: a kubeconfig's current context, or the in-cluster
// service account. Pure: these functions take the parsed file, the environment and a
// file-exists test, and return paths and data; config.ts reads the files.
import { delimiter, isAbsolute, join, resolve } from 'node:path';

export const NO_CLUSTER = 'no Kubernetes cluster configured: pass --kubeconfig, set KUBECONFIG, or run in a cluster';

/** A PEM or token: a file to read, or the bytes themselves (the kubeconfig's *-data fields). */
export type Material = { file: string } | { data: Buffer };

/** A client.authentication.k8s.io ExecCredential plugin. */
export interface ExecSpec {
  /** The kubeconfig user entry, for error messages. */
  user: string;
  apiVersion: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  installHint?: string;
  provideClusterInfo: boolean;
}

export interface ConnectionSpec {
  /** Where this came from, for error messages. */
  origin: string;
  server: string;
  ca?: Material;
  insecureSkipTlsVerify: boolean;
  tlsServerName?: string;
  clientCert?: Material;
  clientKey?: Material;
  token?: string;
  /** Re-read periodically (bound service-account tokens rotate). */
  tokenFile?: string;
  exec?: ExecSpec;
}

export const EXEC_API_VERSIONS = ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'];

const SUPPORTED_AUTH =
  'supported: client-certificate[-data] with client-key[-data], token, tokenFile, and exec plugins (' +
  EXEC_API_VERSIONS.join(', ') +
  ')';

/**
 * The kubeconfig file to read: --kubeconfig, else the first file in $KUBECONFIG that exists
 * (a colon-separated list; client-go merges them all, we read the first existing one only),
 * else ~/.kube/config if it exists; undefined means "try the in-cluster service account".
 */
export function kubeconfigPath(
  explicit: string | undefined,
  env: Record<string, string | undefined>,
  exists: (file: string) => boolean,
): string | undefined {
  if (explicit) return explicit;
  const list = (env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  if (list.length) {
    const found = list.find(exists);
    if (!found) throw new Error(`KUBECONFIG names no file that exists: ${env.KUBECONFIG}`);
    return found;
  }
  const home = env.HOME || env.USERPROFILE;
  const def = home ? join(home, '.kube', 'config') : undefined;
  return def && exists(def) ? def : undefined;
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The in-cluster connection (KUBERNETES_SERVICE_HOST/PORT and the mounted service account). */
export function inClusterSpec(
  env: Record<string, string | undefined>,
  dir = SERVICE_ACCOUNT_DIR,
): ConnectionSpec | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) return undefined;
  return {
    origin: 'in-cluster service account',
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    ca: { file: join(dir, 'ca.crt') },
    insecureSkipTlsVerify: false,
    tokenFile: join(dir, 'token'),
  };
}

interface RawCluster {
  server?: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
  'proxy-url'?: string;
}
interface RawExec {
  apiVersion?: string;
  command?: string;
  args?: string[] | null;
  env?: { name: string; value: string }[] | null;
  installHint?: string;
  provideClusterInfo?: boolean;
}
interface RawUser {
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
  token?: string;
  tokenFile?: string;
  exec?: RawExec | null;
}
interface RawConfig {
  'current-context'?: string;
  contexts?: { name?: string; context?: { cluster?: string; user?: string } }[] | null;
  clusters?: { name?: string; cluster?: RawCluster }[] | null;
  users?: { name?: string; user?: RawUser }[] | null;
}

/** Fields of a user entry we do not implement: refusing beats silently running as someone else. */
const UNSUPPORTED_USER_FIELDS = ['auth-provider', 'username', 'password', 'as', 'as-uid', 'as-groups', 'as-user-extra'];

/** A relative path in a kubeconfig is relative to the kubeconfig's directory. */
const under = (dir: string, file: string) => (isAbsolute(file) ? file : resolve(dir, file));

function material(dir: string, file: string | undefined, data: string | undefined): Material | undefined {
  if (data) return { data: Buffer.from(data, 'base64') };
  return file ? { file: under(dir, file) } : undefined;
}

/** The current context's cluster and user, with file paths resolved against `dir`. */
export function resolveKubeconfig(doc: unknown, dir: string, origin: string): ConnectionSpec {
  const kc = (doc && typeof doc === 'object' ? doc : {}) as RawConfig;
  const ctxName = kc['current-context'];
  const ctx = (kc.contexts ?? []).find((c) => c.name === ctxName)?.context;
  const cluster = ctx?.cluster ? (kc.clusters ?? []).find((c) => c.name === ctx.cluster)?.cluster : undefined;
  if (!ctx || !cluster) throw new Error(NO_CLUSTER);
  if (!cluster.server) throw new Error(`${origin}: cluster "${ctx.cluster}" has no server`);
  if (cluster['proxy-url'])
    throw new Error(`${origin}: cluster "${ctx.cluster}" sets proxy-url, which is not supported`);
  const spec: ConnectionSpec = {
    origin: `${origin} (context "${ctxName}")`,
    server: cluster.server,
    ca: material(dir, cluster['certificate-authority'], cluster['certificate-authority-data']),
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
    tlsServerName: cluster['tls-server-name'] || undefined,
  };
  if (!ctx.user) return spec;
  const user = (kc.users ?? []).find((u) => u.name === ctx.user);
  if (!user) throw new Error(`${origin}: context "${ctxName}" names user "${ctx.user}", which is not in the file`);
  return { ...spec, ...resolveUser(ctx.user, user.user ?? {}, dir, origin) };
}

function resolveUser(name: string, u: RawUser, dir: string, origin: string): Partial<ConnectionSpec> {
  const bad = UNSUPPORTED_USER_FIELDS.filter((f) => f in u && (u as Record<string, unknown>)[f] !== undefined);
  if (bad.length)
    throw new Error(`${origin}: user "${name}" uses ${bad.join(', ')}, which is not supported; ${SUPPORTED_AUTH}`);
  const clientCert = material(dir, u['client-certificate'], u['client-certificate-data']);
  const clientKey = material(dir, u['client-key'], u['client-key-data']);
  if (!clientCert !== !clientKey)
    throw new Error(`${origin}: user "${name}" has a client certificate without a key, or a key without a certificate`);
  return {
    clientCert,
    clientKey,
    token: u.token || undefined,
    tokenFile: u.tokenFile ? under(dir, u.tokenFile) : undefined,
    exec: u.exec ? resolveExec(name, u.exec, dir, origin) : undefined,
  };
}

function resolveExec(user: string, e: RawExec, dir: string, origin: string): ExecSpec {
  if (!e.apiVersion || !EXEC_API_VERSIONS.includes(e.apiVersion))
    throw new Error(`${origin}: user "${user}" has an exec plugin of apiVersion "${e.apiVersion}"; ${SUPPORTED_AUTH}`);
  if (!e.command) throw new Error(`${origin}: user "${user}" has an exec plugin without a command`);
  return {
    user,
    apiVersion: e.apiVersion,
    // As client-go: a command with a path separator is relative to the kubeconfig; a bare name is looked up in PATH.
    command: e.command.includes('/') ? under(dir, e.command) : e.command,
    args: e.args ?? [],
    env: Object.fromEntries((e.env ?? []).map((v) => [v.name, v.value])),
    installHint: e.installHint,
    provideClusterInfo: e.provideClusterInfo === true,
  };
}

// The connection to the API server: --kubeconfig, else $KUBECONFIG, ~/.kube/config, or the
// in-cluster service account (kubeconfig.ts decides which and what; this module reads the files).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import {
  execCredentials,
  staticCredentials,
  tokenFileCredentials,
  type CredentialSource,
  type Credentials,
  type ExecClusterInfo,
} from './credentials.ts';
import { errorMessage } from './errors.ts';
import {
  NO_CLUSTER,
  inClusterSpec,
  kubeconfigPath,
  resolveKubeconfig,
  type ConnectionSpec,
  type Material,
} from './kubeconfig.ts';

export interface KubeConfig {
  /** Where the connection came from (a kubeconfig file and context, or the service account). */
  origin: string;
  server: URL;
  ca?: Buffer;
  insecureSkipTlsVerify: boolean;
  tlsServerName?: string;
  credentials: CredentialSource;
}

function read(m: Material | undefined, what: string): Buffer | undefined {
  if (!m) return undefined;
  if ('data' in m) return m.data;
  try {
    return readFileSync(m.file);
  } catch (e) {
    throw new Error(`cannot read the ${what} ${m.file}: ${errorMessage(e)}`, { cause: e });
  }
}

/** The spec's CA and client certificate read, and how each request gets its credentials. */
export function connect(spec: ConnectionSpec): KubeConfig {
  let server: URL;
  try {
    server = new URL(spec.server);
  } catch {
    throw new Error(`${spec.origin}: the server "${spec.server}" is not a URL`);
  }
  if (server.protocol !== 'https:' && server.protocol !== 'http:')
    throw new Error(`${spec.origin}: the server "${spec.server}" is neither https:// nor http://`);
  const ca = read(spec.ca, 'certificate authority');
  const base: Credentials = {
    cert: read(spec.clientCert, 'client certificate'),
    key: read(spec.clientKey, 'client key'),
    token: spec.token,
  };
  let credentials: CredentialSource;
  if (spec.exec) {
    const cluster: ExecClusterInfo | undefined = spec.exec.provideClusterInfo
      ? {
          server: spec.server,
          'certificate-authority-data': ca?.toString('base64'),
          'insecure-skip-tls-verify': spec.insecureSkipTlsVerify || undefined,
          'tls-server-name': spec.tlsServerName,
        }
      : undefined;
    credentials = execCredentials(spec.exec, cluster);
  } else if (spec.tokenFile) credentials = tokenFileCredentials(spec.tokenFile, base);
  else credentials = staticCredentials(base);
  return {
    origin: spec.origin,
    server,
    ca,
    insecureSkipTlsVerify: spec.insecureSkipTlsVerify,
    tlsServerName: spec.tlsServerName,
    credentials,
  };
}

/**
 * The YAML parser, loaded only to read a kubeconfig file: it costs about 12 MiB of memory,
 * which an operator running in the cluster (service account, no file) need not pay.
 */
const loadModule = createRequire(import.meta.url);
const parseYaml = (text: string): unknown => (loadModule('yaml') as typeof import('yaml')).parse(text);

/** --kubeconfig, else $KUBECONFIG, ~/.kube/config, or the in-cluster service account. */
export function loadKubeConfig(path?: string, env: Record<string, string | undefined> = process.env): KubeConfig {
  const file = kubeconfigPath(path, env, existsSync);
  if (!file) {
    const spec = inClusterSpec(env);
    if (!spec) throw new Error(NO_CLUSTER);
    return connect(spec);
  }
  const abs = resolve(file);
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(abs, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read the kubeconfig ${abs}: ${errorMessage(e)}`, { cause: e });
  }
  return connect(resolveKubeconfig(doc, dirname(abs), `kubeconfig ${abs}`));
}

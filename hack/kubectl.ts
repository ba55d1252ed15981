// Where hack/ scripts and integration tests find kubectl and the local cluster's kubeconfig.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CLUSTER_DIR = process.env.GAFFER_CLUSTER_DIR ?? `${ROOT}.cluster`;
export const KUBECONFIG = process.env.GAFFER_KUBECONFIG ?? `${CLUSTER_DIR}/kubeconfig`;

export function kubectlPath(): string {
  const local = `${CLUSTER_DIR}/bin/kubectl`;
  if (!existsSync(local)) throw new Error(`${local} is missing: run npm run cluster:up first`);
  return local;
}

export const kubectlArgs = (): string[] => ['--kubeconfig', KUBECONFIG];

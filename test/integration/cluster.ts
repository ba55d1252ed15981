// Integration-test access to the local control plane (hack/local-cluster.ts), plus
// per-test namespaces.
import { randomBytes } from 'node:crypto';
import { k, kubectl, waitFor } from '../../hack/local-cluster.ts';

export * from '../../hack/local-cluster.ts';

/** A fresh namespace for one test file, deleted afterwards (without waiting). */
export async function testNamespace(prefix: string): Promise<string> {
  const ns = `${prefix}-${randomBytes(3).toString('hex')}`;
  await k(['create', 'namespace', ns]);
  await waitFor(
    `default ServiceAccount in ${ns}`,
    async () => (await kubectl(['-n', ns, 'get', 'serviceaccount', 'default'])).code === 0,
  );
  return ns;
}

export async function deleteNamespace(ns: string): Promise<void> {
  await kubectl(['delete', 'namespace', ns, '--wait=false']);
}

// Helpers for the end-to-end tests on the real node: hack/real-cluster.ts (shared with the demo),
// the local-cluster wrappers, and per-test namespaces.
export * from '../../hack/local-cluster.ts';
export * from '../../hack/real-cluster.ts';
export { deleteNamespace, testNamespace } from '../integration/harness.ts';

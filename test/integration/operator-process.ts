// Kept for hack/bench-scale.ts, which imports it: the tests use harness.ts.
export { OperatorProcess } from './harness.ts';

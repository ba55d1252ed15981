// How pod events reach a reconcile: batched per owner, as the Job controller's
// syncJobBatchPeriod does. The first event of a burst schedules the owner's reconcile one period
// later; the events that follow within it ride along (the queue keeps the earliest time). A
// 100-worker scale-up then reconciles its cluster about once a second instead of once per pod
// event, and writes status as often: with reconciles at every event, more concurrent workers
// made each cluster's status be written 18 times on its way to Ready (10,000-pod benchmark) and
// the reconciles of clusters still to be created waited behind them. Changes of the custom
// resources themselves (spec, deletion), of nodes and of master pods are not batched, nor a ComputeJob's driver
// events: batched, the reconcile of an evicted driver ran after the pod was gone and read its
// attempt as Succeeded instead of EvictionByEvictionAPI (job-controller integration test).
export const POD_EVENT_BATCH_MS = 1000;

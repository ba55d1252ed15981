// Whether a pod holding a driver's name may be adopted by the job (pure): an orphan that
// carries exactly the labels the job would give that driver, its uid included (common/claim.ts).
import type { ValidComputeJob } from '../../api/v1alpha1/index.ts';
import { LABELS, names } from '../../builders/labels.ts';
import { labelOf, nameOf, uidOf } from '../../kube/meta.ts';
import type { V1Pod } from '../../kube/types.ts';
import { whyNotAdoptable } from '../common/claim.ts';

/** The driver name the pod's labels describe for this job on `clusterName`, or undefined if they describe none. */
function driverNameForLabels(job: ValidComputeJob, clusterName: string, p: V1Pod): string | undefined {
  const jobName = nameOf(job);
  if (labelOf(p, LABELS.managedBy) !== 'gaffer' || labelOf(p, LABELS.role) !== 'driver') return undefined;
  // A driver made for another cluster is wired to that cluster's master: never this job's.
  if (labelOf(p, LABELS.job) !== jobName || labelOf(p, LABELS.cluster) !== clusterName) return undefined;
  // Made for this job, not for an earlier one of the same name (deleted with --cascade=orphan):
  // that one's driver ran another spec, and its end is not this job's.
  if (labelOf(p, LABELS.jobUid) !== uidOf(job)) return undefined;
  const attempt = Number(labelOf(p, LABELS.attempt));
  return Number.isInteger(attempt) && attempt >= 0 ? names.driver(jobName, attempt) : undefined;
}

/** Why the job cannot adopt `p` as its driver; undefined when it can. */
export const whyDriverNotAdoptable = (job: ValidComputeJob, clusterName: string, p: V1Pod): string | undefined =>
  whyNotAdoptable(p, driverNameForLabels(job, clusterName, p));

// spec.scheduling: the scheduler and priority of every pod (pure).
import { expect } from 'chai';
import { validateCluster } from '../../src/api/v1alpha1/index.ts';
import {
  buildDriverPod,
  buildMasterPod,
  buildWorkerPod,
  masterRevision,
  workerRevision,
} from '../../src/builders/pods.ts';
import { minimalCluster, testJob, testCluster } from '../fixtures/specs.ts';

const cluster = (mut: (c: any) => void = () => {}) => testCluster(mut);
const scheduled = (c: any) => (c.spec.scheduling = { schedulerName: 'batch', priorityClassName: 'high' });

describe('scheduling', () => {
  it('sets schedulerName and priorityClassName on the master, workers and drivers', () => {
    const c = cluster(scheduled);
    for (const p of [buildMasterPod(c), buildWorkerPod(c, 0, 1), buildDriverPod(testJob(), c, 0, 1)])
      expect(p.spec).to.include({ schedulerName: 'batch', priorityClassName: 'high' });
  });

  it("leaves a template's own scheduler and priority alone", () => {
    const c = cluster((x) => {
      scheduled(x);
      x.spec.workers.template.spec.schedulerName = 'mine';
      x.spec.workers.template.spec.priorityClassName = 'mine-too';
    });
    expect(buildWorkerPod(c, 0, 1).spec).to.include({ schedulerName: 'mine', priorityClassName: 'mine-too' });
  });

  it('rolls the pods out when it changes, and keeps the revisions of clusters without it', () => {
    const plain = cluster();
    expect(masterRevision(cluster((x) => (x.spec.scheduling = {})))).to.equal(masterRevision(plain));
    expect(masterRevision(cluster(scheduled))).to.not.equal(masterRevision(plain));
    expect(workerRevision(cluster(scheduled))).to.not.equal(workerRevision(plain));
  });

  it('refuses a priorityClassName that is no DNS subdomain, naming the field', () => {
    const c = minimalCluster();
    c.spec.scheduling = { priorityClassName: 'High_Priority' };
    expect(validateCluster(c).errors.map((e) => e.field)).to.include('spec.scheduling.priorityClassName');
  });
});

// What the job reconciler keeps per job (src/controllers/computejob/memory.ts).
import { expect } from 'chai';
import { JobMemories } from '../../src/controllers/computejob/memory.ts';

const backoff = { initialSeconds: 10, maxSeconds: 60 };
const conflict = { pod: 'j-driver-1', why: 'it has another controller' };

describe('JobMemory', () => {
  it('a job created again under the same name (another uid) starts with nothing of its predecessor', () => {
    const ms = new JobMemories();
    const old = ms.start('ns/j', 'uid-1');
    old.refusals.record('createDriver', 'quota', 0, backoff);
    old.recordConflict(conflict, 'taken', 0, backoff);
    old.created = { name: 'j-driver-1', uid: 'p1' };
    expect(ms.get('ns/j')?.uid).to.equal('uid-1');
    const fresh = ms.start('ns/j', 'uid-2');
    expect([
      fresh.refusals.message('createDriver'),
      fresh.driverConflict,
      fresh.created,
      fresh.reportNow,
    ]).to.deep.equal([undefined, undefined, undefined, false]);
    ms.forget('ns/j');
    expect(ms.get('ns/j')).to.equal(undefined);
  });

  it('conflicts in a row back off doubling; a Warning is due only when the conflict changes; clearing resets', () => {
    const m = new JobMemories().start('ns/j', 'u');
    expect(m.isNewConflict(conflict)).to.equal(true);
    m.recordConflict(conflict, 'taken', 0, backoff);
    expect([m.driverConflict?.retryAt, m.reportNow, m.isNewConflict(conflict)]).to.deep.equal([10_000, true, false]);
    m.recordConflict(conflict, 'taken', 10_000, backoff);
    expect(m.conflictRetryAt).to.equal(30_000);
    expect(m.isNewConflict({ ...conflict, why: 'it is terminating' })).to.equal(true);
    m.clearConflict();
    expect([m.driverConflict, m.conflictRetryAt]).to.deep.equal([undefined, undefined]);
  });
});

// The Argo CD health check (charts/gaffer/docs/argocd-health.lua) on hand-made objects.
import { expect } from 'chai';
import { argoHealth as health } from '../fixtures/argocd-health.ts';

const obj = (generation: number, observedGeneration: number | undefined, conds: [string, string, string?][]) => ({
  metadata: { generation },
  status: {
    observedGeneration,
    conditions: conds.map(([type, status, reason]) => ({
      type,
      status,
      reason: reason ?? type,
      message: `${type} is ${status}`,
    })),
  },
});

describe('Argo CD health check (Lua)', () => {
  it('Healthy when Ready=True for the current generation', () => {
    expect(
      health(
        obj(3, 3, [
          ['Ready', 'True'],
          ['Stalled', 'False'],
        ]),
      ).status,
    ).to.equal('Healthy');
  });
  it('Progressing while the operator has not observed the latest spec, or before any status', () => {
    expect(health(obj(4, 3, [['Ready', 'True']])).status).to.equal('Progressing');
    expect(health({ metadata: { generation: 1 } }).status).to.equal('Progressing');
    expect(
      health(
        obj(1, 1, [
          ['Ready', 'False'],
          ['Reconciling', 'True'],
        ]),
      ).status,
    ).to.equal('Progressing');
  });
  it('Degraded when Stalled=True, with the reason', () => {
    const h = health(
      obj(2, 2, [
        ['Ready', 'False'],
        ['Stalled', 'True', 'MasterRestartLimit'],
      ]),
    );
    expect(h).to.deep.equal({ status: 'Degraded', message: 'MasterRestartLimit: Stalled is True' });
  });
  it('Suspended when Suspended=True', () => {
    expect(
      health(
        obj(2, 2, [
          ['Ready', 'False'],
          ['Stalled', 'False'],
          ['Suspended', 'True'],
        ]),
      ).status,
    ).to.equal('Suspended');
  });
});

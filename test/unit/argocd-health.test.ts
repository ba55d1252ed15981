// The Argo CD health check (charts/gaffer/docs/argocd-health.lua) on hand-made objects.
import { expect } from 'chai';
import { argoHealth as health } from '../fixtures/argocd-health.ts';

/** A Gaffer object at `generation`; its status saw `observedGeneration` and has [type, status, reason?] conditions. */
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

const cases: { name: string; obj: unknown; status: string; message?: string }[] = [
  {
    name: 'Healthy when Ready=True for the current generation',
    obj: obj(3, 3, [
      ['Ready', 'True'],
      ['Stalled', 'False'],
    ]),
    status: 'Healthy',
  },
  {
    name: 'Progressing while the operator has not observed the latest spec',
    obj: obj(4, 3, [['Ready', 'True']]),
    status: 'Progressing',
  },
  { name: 'Progressing before any status', obj: { metadata: { generation: 1 } }, status: 'Progressing' },
  {
    name: 'Progressing while Reconciling=True',
    obj: obj(1, 1, [
      ['Ready', 'False'],
      ['Reconciling', 'True'],
    ]),
    status: 'Progressing',
  },
  {
    name: 'Degraded when Stalled=True, with the reason',
    obj: obj(2, 2, [
      ['Ready', 'False'],
      ['Stalled', 'True', 'MasterRestartLimit'],
    ]),
    status: 'Degraded',
    message: 'MasterRestartLimit: Stalled is True',
  },
  {
    name: 'Suspended when Suspended=True',
    obj: obj(2, 2, [
      ['Ready', 'False'],
      ['Stalled', 'False'],
      ['Suspended', 'True'],
    ]),
    status: 'Suspended',
  },
];

describe('Argo CD health check (Lua)', () => {
  for (const c of cases) {
    it(c.name, () => {
      const h = health(c.obj);
      if (c.message === undefined) expect(h.status).to.equal(c.status);
      else expect(h).to.deep.equal({ status: c.status, message: c.message });
    });
  }
});

// npm run soak: many clusters and jobs under random faults, invariants checked all along, then
// convergence once the faults stop. See README.md, "Soak", and --help.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CLUSTER_DIR } from './kubectl.ts';
import { formatReport } from './soak/report.ts';
import { Soak } from './soak/run.ts';
import { DEFAULT_WEIGHTS, FAULT_HELP, FAULT_KINDS, parseWeights } from './soak/schedule.ts';

const HELP = `Usage: npm run soak -- [flags]
  --minutes N            minutes of faults (default 5)
  --seed S               the fault schedule's seed (default: random, printed; the same seed replays the schedule)
  --settle-seconds S     after the faults: bound for every cluster Ready and every job finished (default 180)
  --clusters N           standing ComputeClusters (default 6, 2-4 workers each)
  --namespaces N         spread over N namespaces (default 2)
  --job-every S          a new ComputeJob every S seconds during the faults (default 15; one in three ephemeral)
  --fault-every S        mean seconds between faults (default 8)
  --faults SPEC          relative rates, e.g. "pod-fail=5,apiserver-restart=0", or "only:pod-fail,scale"
  --json FILE            write the report as JSON
  --no-build             use dist/ as it is (default: npm run build first)
  --operator-args=ARGS   extra operator flags, e.g. --operator-args="--log-level=debug" (logs: <cluster>/logs/soak-operator-*.log)
Exit status: 0 with no invariant violation and convergence within the bound, 1 otherwise.
Faults (default rate):
${FAULT_KINDS.map((k) => `  ${k.padEnd(18)} (${DEFAULT_WEIGHTS[k]}) ${FAULT_HELP[k]}`).join('\n')}
Cluster: GAFFER_CLUSTER_DIR, GAFFER_PORT_OFFSET as for hack/cluster-up.sh (started if none is up).`;

const { values: f } = parseArgs({
  options: {
    minutes: { type: 'string', default: '5' },
    seed: { type: 'string' },
    'settle-seconds': { type: 'string', default: '180' },
    clusters: { type: 'string', default: '6' },
    namespaces: { type: 'string', default: '2' },
    'job-every': { type: 'string', default: '15' },
    'fault-every': { type: 'string', default: '8' },
    faults: { type: 'string', default: '' },
    json: { type: 'string' },
    'no-build': { type: 'boolean', default: false },
    'operator-args': { type: 'string', default: '' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (f.help) {
  console.log(HELP);
  process.exit(0);
}
const num = (name: string, v: string, min = 0) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${name}: expected a number ≥ ${min}, got ${v}`);
  return n;
};
const seed = f.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Math.floor(num('seed', f.seed));
const log = (s: string) => console.error(`[soak ${new Date().toISOString().slice(11, 19)}] ${s}`);

const soak = new Soak({
  minutes: num('minutes', f.minutes),
  seed,
  settleSeconds: num('settle-seconds', f['settle-seconds']),
  clusters: Math.max(1, Math.floor(num('clusters', f.clusters, 1))),
  namespaces: Math.min(26, Math.max(1, Math.floor(num('namespaces', f.namespaces, 1)))),
  jobEverySeconds: num('job-every', f['job-every'], 1),
  meanFaultSeconds: num('fault-every', f['fault-every'], 1),
  weights: parseWeights(f.faults),
  build: !f['no-build'],
  operatorArgs: f['operator-args'].split(/\s+/).filter(Boolean),
  log,
});

// Every way out undoes what the soak did: the end, an error, Ctrl-C or SIGTERM.
let exiting = false;
const onSignal = (sig: string) => {
  if (exiting) return;
  exiting = true;
  log(`${sig}: cleaning up`);
  void soak.cleanup().finally(() => process.exit(130));
};
process.on('SIGINT', () => onSignal('SIGINT'));
process.on('SIGTERM', () => onSignal('SIGTERM'));

log(`control plane: ${CLUSTER_DIR}; seed ${seed} (replay: --seed ${seed})`);
let code = 1;
try {
  await soak.setUp();
  await soak.faults();
  const report = soak.report(await soak.settle());
  console.log(formatReport(report));
  if (f.json) writeFileSync(f.json, JSON.stringify(report, null, 2));
  code = report.violations.length === 0 && report.converged ? 0 : 1;
} catch (e) {
  log(`soak failed: ${(e as Error).stack ?? e}`);
} finally {
  if (!exiting) {
    log('cleaning up');
    await soak.cleanup();
  }
}
if (!exiting) process.exit(code);

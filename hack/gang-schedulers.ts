// The gang schedulers of other projects, for the tests of spec.scheduling.gang.provider
// (README "Gang scheduling"): hack/build-tools.sh builds scheduler-plugins' scheduler from its Go
// module and puts the PodGroup CRDs of scheduler-plugins and Volcano in $CLUSTER_DIR/crds.
//   installGangCrds()       applies both CRDs and waits until they are served
//   startCoscheduler()      runs scheduler-plugins' scheduler beside kube-scheduler, with the
//                           Coscheduling plugin, as scheduler-plugins-scheduler; stopped by pid
import { spawn } from 'node:child_process';
import { existsSync, openSync, readdirSync, writeFileSync } from 'node:fs';
import { freePort, track } from './processes.ts';
import { join } from 'node:path';
import { get } from 'node:https';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CLUSTER_DIR, KUBECONFIG, kubectlArgs, kubectlPath } from './kubectl.ts';

const run = promisify(execFile);
const kubectl = (args: string[]) => run(kubectlPath(), [...kubectlArgs(), ...args]);

/** The scheduler name of scheduler-plugins' own manifests, which Gaffer's Coscheduling provider defaults to. */
export const COSCHEDULER_NAME = 'scheduler-plugins-scheduler';

const CRDS = join(CLUSTER_DIR, 'crds');
const crdFiles = () => {
  if (!existsSync(CRDS)) throw new Error(`${CRDS} is missing: run npm run tools (hack/build-tools.sh)`);
  return readdirSync(CRDS)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => join(CRDS, f));
};

/** The PodGroup CRDs of scheduler-plugins and Volcano, applied and Established. */
export async function installGangCrds(): Promise<void> {
  const files = crdFiles();
  await kubectl(['apply', '--server-side', ...files.flatMap((f) => ['-f', f])]);
  await kubectl(['wait', '--for=condition=Established', '--timeout=60s', ...files.flatMap((f) => ['-f', f])]);
}

/** Removes them again (and every PodGroup of theirs). */
export async function removeGangCrds(): Promise<void> {
  await kubectl(['delete', '--ignore-not-found', '--wait=true', ...crdFiles().flatMap((f) => ['-f', f])]);
}

/** Whether https://127.0.0.1:<port>/healthz answers 200 (its serving certificate is self-signed). */
const healthy = (port: number) =>
  new Promise<boolean>((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/healthz', rejectUnauthorized: false, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });

export interface RunningScheduler {
  pid: number;
  log: string;
  stop(): Promise<void>;
}

/**
 * scheduler-plugins' scheduler as a second scheduler: one profile, scheduler-plugins-scheduler,
 * with Coscheduling at every extension point it has (as its manifests/coscheduling config).
 * Resolves once /healthz answers.
 */
export async function startCoscheduler(): Promise<RunningScheduler> {
  const bin = join(CLUSTER_DIR, 'bin', 'scheduler-plugins-scheduler');
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run npm run tools (hack/build-tools.sh)`);
  const port = await freePort();
  const config = join(CLUSTER_DIR, 'run', 'coscheduler.yaml');
  writeFileSync(
    config,
    [
      'apiVersion: kubescheduler.config.k8s.io/v1',
      'kind: KubeSchedulerConfiguration',
      'clientConnection:',
      `  kubeconfig: ${KUBECONFIG}`,
      'leaderElection:',
      '  leaderElect: false',
      'profiles:',
      `- schedulerName: ${COSCHEDULER_NAME}`,
      '  plugins:',
      '    multiPoint:',
      '      enabled:',
      '      - name: Coscheduling',
      '    queueSort:',
      '      enabled:',
      '      - name: Coscheduling',
      '      disabled:',
      '      - name: "*"',
      '',
    ].join('\n'),
  );
  const log = join(CLUSTER_DIR, 'logs', 'coscheduler.log');
  const out = openSync(log, 'a');
  const child = spawn(
    bin,
    [
      `--config=${config}`,
      `--authentication-kubeconfig=${KUBECONFIG}`,
      `--authorization-kubeconfig=${KUBECONFIG}`,
      '--authorization-always-allow-paths=/healthz,/readyz,/livez',
      '--bind-address=127.0.0.1',
      `--secure-port=${port}`,
      '--profiling=false',
    ],
    { stdio: ['ignore', out, out] },
  );
  const proc = track(child);
  const stop = () => proc.stop(5000);
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode() !== undefined)
      throw new Error(`scheduler-plugins' scheduler exited (${proc.exitCode()}); see ${log}`);
    const ok = await healthy(port);
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`scheduler-plugins' scheduler did not answer /healthz in 60 s; see ${log}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return { pid: proc.pid, log, stop };
}

// A real Kueue beside the local control plane, for the tests of the Kueue integration (README
// "Queueing with Kueue"). hack/build-kueue.sh builds its manager from the Go module proxy and puts
// its CRDs and webhook manifests in $CLUSTER_DIR/kueue.
//   startKueue()   applies Kueue's CRDs, registers its own webhooks (those of kueue.x-k8s.io objects:
//                  no Job, Pod or other framework's) at https://127.0.0.1:<port> with a CA made here,
//                  and runs the manager out of cluster until /readyz answers; stopped by pid, and its
//                  webhook configurations removed
//
// Kueue reads its metrics certificate from a fixed path, /etc/kueue/metrics/certs, when it does not
// manage certificates itself (it manages them only for in-cluster Services). The manager runs in a
// mount namespace of its own where /etc is an overlay with that directory: the host's /etc is
// untouched, and the overlay goes with the process.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { freePort, track } from './processes.ts';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments, stringify } from 'yaml';
import { CLUSTER_DIR, KUBECONFIG, kubectlArgs, kubectlPath } from './kubectl.ts';

const run = promisify(execFile);
const kubectl = (args: string[], input?: string) => {
  const p = run(kubectlPath(), [...kubectlArgs(), ...args]);
  if (input !== undefined) p.child.stdin!.end(input);
  return p;
};

const KUEUE = join(CLUSTER_DIR, 'kueue');
const RUN = join(CLUSTER_DIR, 'run', 'kueue');
export const KUEUE_NAMESPACE = 'kueue-system';
/** Names of the webhook configurations registered here (removed on stop). */
const WEBHOOK_CONFIGS = { mutating: 'gaffer-test-kueue-mutating', validating: 'gaffer-test-kueue-validating' };

const ready = (port: number) =>
  new Promise<boolean>((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/readyz', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });

/** A CA and a serving certificate for 127.0.0.1, made with openssl (as cluster-up.sh makes the cluster's). */
async function makeCerts(dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const ssl = (args: string[]) => run('openssl', args, { cwd: dir });
  await ssl(
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '30', '-keyout', 'ca.key'].concat([
      '-out',
      'ca.crt',
      '-subj',
      '/CN=gaffer-test-kueue-ca',
    ]),
  );
  await ssl([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'tls.key',
    '-out',
    'tls.csr',
    '-subj',
    '/CN=127.0.0.1',
  ]);
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  await ssl(
    ['x509', '-req', '-sha256', '-days', '30', '-in', 'tls.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key'].concat([
      '-CAcreateserial',
      '-extfile',
      'san.ext',
      '-out',
      'tls.crt',
    ]),
  );
  return readFileSync(join(dir, 'ca.crt')).toString('base64');
}

/**
 * Kueue's webhook configurations, kept to its own objects' webhooks (paths of kueue.x-k8s.io) and
 * pointed at the manager on loopback. The webhooks of Jobs, Pods and the other frameworks are left
 * out: their integrations are off here, and a webhook on every Pod would stand in the tests' way.
 */
function webhookConfigs(port: number, caBundle: string): object[] {
  const docs = parseAllDocuments(readFileSync(join(KUEUE, 'webhooks.yaml'), 'utf8')).map((d) => d.toJS());
  return docs
    .filter((d) => d?.kind)
    .map((d) => ({
      ...d,
      metadata: {
        name: d.kind === 'MutatingWebhookConfiguration' ? WEBHOOK_CONFIGS.mutating : WEBHOOK_CONFIGS.validating,
      },
      webhooks: d.webhooks
        .filter((w: any) => w.clientConfig.service.path.includes('-kueue-x-k8s-io-'))
        .map((w: any) => ({
          ...w,
          clientConfig: { url: `https://127.0.0.1:${port}${w.clientConfig.service.path}`, caBundle },
        })),
    }));
}

function configFile(webhookPort: number, healthPort: number, certDir: string): string {
  return stringify({
    apiVersion: 'config.kueue.x-k8s.io/v1beta2',
    kind: 'Configuration',
    namespace: KUEUE_NAMESPACE,
    health: { healthProbeBindAddress: `127.0.0.1:${healthPort}` },
    metrics: { bindAddress: '0' },
    webhook: { host: '127.0.0.1', port: webhookPort, certDir },
    leaderElection: { leaderElect: false },
    internalCertManagement: { enable: false },
    clientConnection: { qps: 50, burst: 100 },
    // No job framework of Kueue's own: Gaffer implements the Workload protocol itself. Its kinds are
    // named as external frameworks, so that Kueue treats their pods as managed by their owner.
    integrations: {
      frameworks: [],
      externalFrameworks: ['ComputeJob.v1alpha1.compute.gaffer.dev', 'ComputeCluster.v1alpha1.compute.gaffer.dev'],
    },
  });
}

export interface RunningKueue {
  pid: number;
  log: string;
  stop(): Promise<void>;
}

/** Kueue's CRDs, applied (server-side: they are too big for the last-applied annotation) and Established. */
export async function installKueueCrds(): Promise<void> {
  const dir = join(KUEUE, 'crds');
  if (!existsSync(dir)) throw new Error(`${dir} is missing: run hack/build-kueue.sh (npm run cluster:up runs it)`);
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => ['-f', join(dir, f)]);
  await kubectl(['apply', '--server-side', '--force-conflicts', ...files]);
  await kubectl(['wait', '--for=condition=Established', '--timeout=60s', ...files]);
}

/** Runs Kueue's manager out of cluster, with its webhooks served on loopback; resolves once it is ready. */
export async function startKueue(): Promise<RunningKueue> {
  const bin = join(KUEUE, 'kueue');
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run hack/build-kueue.sh (npm run cluster:up runs it)`);
  await installKueueCrds();
  await kubectl(['create', 'namespace', KUEUE_NAMESPACE]).catch(() => undefined); // there already
  rmSync(RUN, { recursive: true, force: true });
  const certDir = join(RUN, 'certs');
  const caBundle = await makeCerts(certDir);
  const [webhookPort, healthPort] = [await freePort(), await freePort()];
  const config = join(RUN, 'config.yaml');
  writeFileSync(config, configFile(webhookPort, healthPort, certDir));
  for (const d of ['upper', 'work']) mkdirSync(join(RUN, 'etc', d), { recursive: true });
  const log = join(CLUSTER_DIR, 'logs', 'kueue.log');
  const out = openSync(log, 'a');
  const etc = join(RUN, 'etc');
  const script = [
    `mount -t overlay gaffer-kueue-etc -o lowerdir=/etc,upperdir=${etc}/upper,workdir=${etc}/work /etc`,
    'mkdir -p /etc/kueue/metrics/certs',
    `cp ${certDir}/tls.crt ${certDir}/tls.key /etc/kueue/metrics/certs/`,
    `exec ${bin} --config=${config} --feature-gates=VisibilityOnDemand=false --zap-log-level=2`,
  ].join(' && ');
  // unshare execs the shell in the same process, which execs the manager: the pid is the manager's.
  const child = spawn('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', script], {
    stdio: ['ignore', out, out],
    env: { ...process.env, KUBECONFIG },
  });
  const proc = track(child);
  const stop = async () => {
    await kubectl(['delete', '--ignore-not-found', 'mutatingwebhookconfiguration', WEBHOOK_CONFIGS.mutating]);
    await kubectl(['delete', '--ignore-not-found', 'validatingwebhookconfiguration', WEBHOOK_CONFIGS.validating]);
    await proc.stop(10_000);
  };
  await kubectl(
    ['apply', '-f', '-'],
    webhookConfigs(webhookPort, caBundle)
      .map((d) => `---\n${stringify(d)}`)
      .join(''),
  );
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (proc.exitCode() !== undefined) {
      await stop();
      throw new Error(`Kueue exited (${proc.exitCode()}); see ${log}`);
    }
    if (await ready(healthPort)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Kueue was not ready in 90 s; see ${log}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return { pid: proc.pid, log, stop };
}

// The operator's configuration: every flag, its default and its check, in one table.
// Environment is read here only (KUBECONFIG, POD_NAMESPACE, HOSTNAME), nowhere else.
import { parseArgs } from 'node:util';
import { errorMessage } from './kube/errors.ts';
import { LOG_LEVELS, type LogLevel } from './runtime/logger.ts';

export interface OperatorConfig {
  kubeconfig?: string;
  namespaces: string[];
  workers: number;
  kubeApiQps: number;
  kubeApiBurst: number;
  leaderElect: boolean;
  leaderElectionNamespace: string;
  leaderElectionId: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  bindAddress: string;
  healthPort: number;
  metricsPort: number;
  logLevel: LogLevel;
  gracefulShutdownMs: number;
  cacheSyncTimeoutMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  resyncPeriodMs: number;
  identity: string;
  kueue: boolean;
}

export class ConfigError extends Error {}

type Kind = 'string' | 'int' | 'number' | 'duration' | 'bool' | 'list' | 'port';
interface Flag {
  name: string;
  key: keyof OperatorConfig;
  kind: Kind;
  default: string;
  help: string;
  choices?: readonly string[];
  min?: number;
}

const FLAGS: Flag[] = [
  {
    name: 'kubeconfig',
    key: 'kubeconfig',
    kind: 'string',
    default: '',
    help: 'kubeconfig file; default $KUBECONFIG, ~/.kube/config, or the in-cluster service account',
  },
  {
    name: 'namespaces',
    key: 'namespaces',
    kind: 'list',
    default: '',
    help: 'comma-separated namespaces to watch; empty watches all',
  },
  {
    name: 'workers',
    key: 'workers',
    kind: 'int',
    default: '4',
    min: 1,
    help: 'concurrent reconciles per controller (one key is never reconciled twice at once)',
  },
  {
    name: 'kube-api-qps',
    key: 'kubeApiQps',
    kind: 'number',
    default: '200',
    min: 0.1,
    help: 'sustained API writes per second (client-side token bucket)',
  },
  {
    name: 'kube-api-burst',
    key: 'kubeApiBurst',
    kind: 'int',
    default: '400',
    min: 1,
    help: 'API writes allowed in a burst above --kube-api-qps',
  },
  {
    name: 'kueue',
    key: 'kueue',
    kind: 'bool',
    default: 'false',
    help: "the Kueue integration: a ComputeJob labelled kueue.x-k8s.io/queue-name waits for Kueue's admission of its Workload (needs Kueue's CRDs)",
  },
  {
    name: 'leader-elect',
    key: 'leaderElect',
    kind: 'bool',
    default: 'true',
    help: 'elect a leader on a Lease; only the leader reconciles',
  },
  {
    name: 'leader-election-namespace',
    key: 'leaderElectionNamespace',
    kind: 'string',
    default: '',
    help: 'namespace of the Lease; default $POD_NAMESPACE, else "default"',
  },
  {
    name: 'leader-election-id',
    key: 'leaderElectionId',
    kind: 'string',
    default: 'gaffer-operator',
    help: 'name of the Lease',
  },
  {
    name: 'lease-duration',
    key: 'leaseDurationMs',
    kind: 'duration',
    default: '15s',
    help: 'how long a standby waits after the last renewal before taking over',
  },
  {
    name: 'renew-deadline',
    key: 'renewDeadlineMs',
    kind: 'duration',
    default: '10s',
    help: 'the leader stops reconciling if it cannot renew within this',
  },
  {
    name: 'retry-period',
    key: 'retryPeriodMs',
    kind: 'duration',
    default: '2s',
    help: 'interval between lease renewals and acquisition attempts',
  },
  {
    name: 'bind-address',
    key: 'bindAddress',
    kind: 'string',
    default: '0.0.0.0',
    help: 'address the health and metrics servers listen on',
  },
  { name: 'health-port', key: 'healthPort', kind: 'port', default: '8081', help: 'port of /healthz and /readyz' },
  { name: 'metrics-port', key: 'metricsPort', kind: 'port', default: '8080', help: 'port of /metrics (Prometheus)' },
  {
    name: 'log-level',
    key: 'logLevel',
    kind: 'string',
    default: 'info',
    choices: LOG_LEVELS,
    help: 'error, warn, info or debug',
  },
  {
    name: 'graceful-shutdown-timeout',
    key: 'gracefulShutdownMs',
    kind: 'duration',
    default: '30s',
    help: 'on SIGTERM, how long reconciles in flight may take to finish',
  },
  {
    name: 'cache-sync-timeout',
    key: 'cacheSyncTimeoutMs',
    kind: 'duration',
    default: '2m',
    help: 'a new leader that cannot list its caches within this exits (another replica may lead)',
  },
  {
    name: 'backoff-base',
    key: 'backoffBaseMs',
    kind: 'duration',
    default: '5ms',
    help: 'first retry delay of a failing key (doubles per failure)',
  },
  {
    name: 'backoff-max',
    key: 'backoffMaxMs',
    kind: 'duration',
    default: '1000s',
    help: 'largest retry delay of a failing key',
  },
  {
    name: 'resync-period',
    key: 'resyncPeriodMs',
    kind: 'duration',
    default: '10m',
    help: 'every object is reconciled at least this often',
  },
];

/** "15s", "500ms", "2m", "1h" or a bare number of seconds. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * unit);
}

function convert(f: Flag, raw: string): unknown {
  const bad = (expected: string) => new ConfigError(`--${f.name}: expected ${expected}, got '${raw}'`);
  switch (f.kind) {
    case 'string':
      if (f.choices && !f.choices.includes(raw)) throw bad(`one of ${f.choices.join(', ')}`);
      return raw;
    case 'list':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    case 'bool':
      if (raw !== 'true' && raw !== 'false') throw bad('true or false');
      return raw === 'true';
    case 'int':
    case 'number':
    case 'port': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n) || (f.kind !== 'number' && !Number.isInteger(n)))
        throw bad(f.kind === 'number' ? 'a number' : 'a whole number');
      if (f.kind === 'port' && (n < 0 || n > 65535)) throw bad('a port from 0 to 65535');
      if (f.min !== undefined && n < f.min) throw bad(`at least ${f.min}`);
      return n;
    }
    case 'duration': {
      const ms = parseDuration(raw);
      if (ms === undefined || ms <= 0) throw bad('a positive duration such as 15s, 500ms or 2m');
      return ms;
    }
  }
}

export function helpText(): string {
  const rows = FLAGS.map(
    (f) =>
      `  --${f.name}${f.kind === 'bool' ? '[=true|false]' : ' VALUE'}\n      ${f.help} (default: ${f.default === '' ? 'none' : f.default})`,
  );
  return `Usage: gaffer operator [flags]\n\nRuns the Gaffer operator (ComputeCluster and ComputeJob controllers).\n\nFlags:\n${rows.join('\n')}\n  --help\n      print this and exit\n`;
}

export function parseConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): OperatorConfig | 'help' {
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const f of FLAGS) options[f.name] = { type: 'string' };
  let values: Record<string, unknown>;
  try {
    // Booleans are strings so that --leader-elect=false works; a bare --leader-elect means true.
    const normalized = argv.map((a) => (FLAGS.some((f) => f.kind === 'bool' && a === `--${f.name}`) ? `${a}=true` : a));
    ({ values } = parseArgs({ args: normalized, options, strict: true, allowPositionals: false }));
  } catch (e) {
    throw new ConfigError(`${errorMessage(e).replace(/\. To specify.*$/s, '')} (see --help)`);
  }
  if (values.help) return 'help';
  const out: Record<string, unknown> = {};
  for (const f of FLAGS) out[f.key] = convert(f, (values[f.name] as string | undefined) ?? f.default);
  const cfg = out as unknown as OperatorConfig;
  if (!cfg.kubeconfig) delete cfg.kubeconfig; // then $KUBECONFIG's first file, ~/.kube/config, in-cluster
  if (!cfg.leaderElectionNamespace) cfg.leaderElectionNamespace = env.POD_NAMESPACE || 'default';
  cfg.identity = `${env.HOSTNAME || 'gaffer'}_${Math.random().toString(36).slice(2, 10)}`;
  if (!(cfg.leaseDurationMs > cfg.renewDeadlineMs))
    throw new ConfigError('--lease-duration must be longer than --renew-deadline');
  if (!(cfg.renewDeadlineMs > cfg.retryPeriodMs * 1.2))
    throw new ConfigError('--renew-deadline must be longer than 1.2 x --retry-period');
  if (cfg.backoffBaseMs > cfg.backoffMaxMs) throw new ConfigError('--backoff-base must not exceed --backoff-max');
  return cfg;
}

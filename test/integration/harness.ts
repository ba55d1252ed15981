// The integration tests' one harness: the local control plane (hack/local-cluster.ts), a fresh
// namespace per test file with kubectl bound to it, reading objects and their conditions,
// waiting, KWOK's NotReady nodes, and the operator (src/main.ts) as a child process.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { get as httpsGet } from 'node:https';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { clusterFaultProxy, kubeconfigFileVia, type FaultProxy } from '../../hack/fault-proxy.ts';
import { CLUSTER_DIR, ROOT } from '../../hack/kubectl.ts';
import {
  OPERATOR_KUBECONFIG,
  ensureCluster,
  k,
  kjson,
  kubectl,
  waitFor,
  type Result,
} from '../../hack/local-cluster.ts';

export * from '../../hack/local-cluster.ts';
export { CLUSTER_DIR, KUBECONFIG, ROOT, runningComponentPid } from '../../hack/kubectl.ts';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The condition of this type in an object's status.conditions (a pod's, a node's or a CR's). */
export const cond = (obj: any, type: string): any => obj?.status?.conditions?.find((c: any) => c.type === type);

/** Pods that are not being deleted. */
export const live = (pods: any[]) => pods.filter((p) => !p.metadata.deletionTimestamp);
/** The sorted names of the live pods. */
export const podNames = (pods: any[]) =>
  live(pods)
    .map((p) => p.metadata.name)
    .sort();
/** The sorted uids of the live pods. */
export const podUids = (pods: any[]) =>
  live(pods)
    .map((p) => p.metadata.uid)
    .sort();
/** The first container's environment, by name. */
export const envOf = (pod: any): Record<string, string> =>
  Object.fromEntries(pod.spec.containers[0].env.map((e: any) => [e.name, e.value]));

/** Objects (or YAML as it is) as one multi-document YAML stream for kubectl. */
export const toYaml = (objs: object | object[] | string): string =>
  typeof objs === 'string'
    ? objs
    : [objs]
        .flat()
        .map((o) => stringify(o))
        .join('---\n');

/** kubectl apply (client-side) of cluster-scoped objects, which must succeed. */
export const apply = (objs: object | object[] | string): Promise<string> => k(['apply', '-f', '-'], toYaml(objs));

/** A fresh namespace, ready for pods (its default ServiceAccount exists). */
export async function testNamespace(prefix: string): Promise<string> {
  const ns = `${prefix}-${randomBytes(3).toString('hex')}`;
  await k(['create', 'namespace', ns]);
  await waitFor(
    `default ServiceAccount in ${ns}`,
    async () => (await kubectl(['-n', ns, 'get', 'serviceaccount', 'default'])).code === 0,
  );
  return ns;
}

/** Deletes a namespace without waiting for it to go. */
export async function deleteNamespace(ns: string): Promise<void> {
  await kubectl(['delete', 'namespace', ns, '--wait=false']);
}

export interface ApplyOptions {
  /** Server-side apply (the default); false: client-side, as a first `kubectl apply` creates. */
  serverSide?: boolean;
  fieldManager?: string;
}

/** kubectl bound to one namespace. */
export class Namespace {
  constructor(readonly name: string) {}

  /** kubectl -n <ns> ...: its exit code and output. */
  run(args: string[], input?: string): Promise<Result> {
    return kubectl(['-n', this.name, ...args], input);
  }

  /** kubectl -n <ns> ... that must succeed: its stdout. */
  k(args: string[], input?: string): Promise<string> {
    return k(['-n', this.name, ...args], input);
  }

  private applyArgs(o: ApplyOptions): string[] {
    return [
      'apply',
      ...(o.serverSide === false ? [] : ['--server-side']),
      ...(o.fieldManager ? [`--field-manager=${o.fieldManager}`] : []),
      '-f',
      '-',
    ];
  }

  /** kubectl apply of objects or YAML, which must succeed. */
  apply(objs: object | object[] | string, o: ApplyOptions = {}): Promise<string> {
    return this.k(this.applyArgs(o), toYaml(objs));
  }

  /** kubectl apply that may fail: its exit code and output. */
  tryApply(objs: object | object[] | string, o: ApplyOptions = {}): Promise<Result> {
    return this.run(this.applyArgs(o), toYaml(objs));
  }

  get<T = any>(kind: string, name: string, ...flags: string[]): Promise<T> {
    return kjson<T>(['get', '-n', this.name, kind, name, ...flags]);
  }

  async exists(kind: string, name: string): Promise<boolean> {
    return (await this.run(['get', kind, name])).code === 0;
  }

  async list(kind: string, selector?: string): Promise<any[]> {
    return (await kjson(['get', '-n', this.name, kind, ...(selector ? ['-l', selector] : [])])).items;
  }

  /** events.k8s.io Events with this reason (about `regarding` when given). */
  async events(reason: string, regarding?: string): Promise<any[]> {
    return (await this.list('events.events.k8s.io')).filter(
      (e) => e.reason === reason && (regarding === undefined || e.regarding.name === regarding),
    );
  }

  /** Sets annotations (`key=value`) on an object. */
  annotate(kind: string, name: string, annotations: Record<string, string>): Promise<string> {
    return this.k(['annotate', kind, name, ...Object.entries(annotations).map(([a, v]) => `${a}=${v}`)]);
  }

  /** A merge patch, of the object or of a subresource (status). */
  patch(kind: string, name: string, patch: object, subresource?: string): Promise<string> {
    const sub = subresource ? [`--subresource=${subresource}`] : [];
    return this.k(['patch', kind, name, ...sub, '--type=merge', '-p', JSON.stringify(patch)]);
  }

  /** kubectl scale through the scale subresource. */
  scale(kind: string, name: string, replicas: number): Promise<string> {
    return this.k(['scale', `${kind}/${name}`, `--replicas=${replicas}`]);
  }

  delete(kind: string, name: string, ...flags: string[]): Promise<string> {
    return this.k(['delete', kind, name, ...flags]);
  }

  /** Reads the object until `pred` holds for it, and returns it then. */
  until<T = any>(
    kind: string,
    name: string,
    what: string,
    pred: (o: T) => unknown,
    timeoutMs?: number,
    intervalMs?: number,
  ): Promise<T> {
    let last: T | undefined;
    return waitFor(
      `${kind}/${name} ${what}`,
      async () => {
        const o = (last = await this.get<T>(kind, name));
        return !!pred(o) && o;
      },
      timeoutMs,
      intervalMs,
    ).catch((e: Error) => {
      // What the object said last: which step it was stuck at, for a failure seen only in CI's output.
      const status = (last as { status?: unknown } | undefined)?.status;
      throw new Error(`${e.message}; its status last: ${JSON.stringify(status ?? null).slice(0, 1500)}`);
    });
  }

  /** Until the object has condition `type` with `status` (True unless given). */
  untilCondition(kind: string, name: string, type: string, status = 'True', timeoutMs?: number): Promise<any> {
    return this.until(kind, name, `${type}=${status}`, (o) => cond(o, type)?.status === status, timeoutMs);
  }

  /** Until the object is gone. */
  untilGone(kind: string, name: string, timeoutMs?: number): Promise<boolean> {
    return waitFor(`${kind}/${name} gone`, async () => !(await this.exists(kind, name)), timeoutMs);
  }
}

/**
 * One line per pod (node, phase, conditions, deletion) and per node (Ready, taints): appended to
 * a timeout's message, for a failure seen only in CI's output.
 */
export async function podsAndNodes(ns: string, selector: string): Promise<string> {
  const conds = (o: any) =>
    (o.status?.conditions ?? []).map((c: any) => `${c.type}=${c.status}${c.reason ? `(${c.reason})` : ''}`).join(' ');
  const pods = (await kjson(['get', '-n', ns, 'pods', '-l', selector])).items.map(
    (p: any) =>
      `pod ${p.metadata.name} uid=${p.metadata.uid.slice(0, 8)} node=${p.spec.nodeName ?? '-'} phase=${p.status?.phase} ` +
      `${conds(p)} created=${p.metadata.creationTimestamp}${p.metadata.deletionTimestamp ? ' deleting' : ''}`,
  );
  const nodes = (await kjson(['get', 'nodes'])).items.map(
    (n: any) =>
      `node ${n.metadata.name} ${conds(n)
        .split(' ')
        .filter((c: string) => c.startsWith('Ready'))
        .join(' ')} ` + `taints=${(n.spec.taints ?? []).map((t: any) => `${t.key}:${t.effect}`).join(',') || '-'}`,
  );
  return [...pods, ...nodes].join('\n');
}

/** A node's Ready condition. */
export const nodeReady = async (node: string) => cond(await kjson(['get', 'node', node]), 'Ready');

/**
 * Runs `fn` while KWOK holds the node NotReady (hack/README.md); the node recovers afterwards
 * (untilNodeReady), so the next test finds it as this one did. A failure of `fn` stays the error.
 */
export async function whileNodeNotReady<T>(node: string, fn: () => Promise<T>): Promise<T> {
  await k(['label', 'node', node, 'sim.gaffer.dev/not-ready=true']);
  let failed = true;
  try {
    const result = await fn();
    failed = false;
    return result;
  } finally {
    await k(['label', 'node', node, 'sim.gaffer.dev/not-ready-']);
    await untilNodeReady(node).catch((e) => {
      if (!failed) throw e;
    });
  }
}

/** The taints kube-controller-manager's node lifecycle controller keeps on a node it deems not Ready. */
const NODE_HEALTH_TAINTS = ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'];

/**
 * How many node-health passes kube-controller-manager's node lifecycle controller has finished
 * (its metrics; hack/cluster-up.sh lets anyone read /metrics).
 */
async function nodeMonitorPasses(): Promise<number> {
  const port = 10257 + Number(process.env.GAFFER_PORT_OFFSET ?? 0);
  const body = await new Promise<string>((resolve, reject) => {
    const req = httpsGet(`https://127.0.0.1:${port}/metrics`, { rejectUnauthorized: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`/metrics: ${res.statusCode}`))));
      // A connection closed mid-body emits no 'end': settle anyway (a no-op after resolve).
      res.on('error', reject);
      res.on('close', () => reject(new Error('/metrics: connection closed before the end')));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('/metrics: no answer in 10 s')));
    req.on('error', reject);
  });
  const line = body
    .split('\n')
    .find((l) => l.startsWith('node_collector_update_all_nodes_health_duration_seconds_count'));
  if (!line) throw new Error('kube-controller-manager has no node_collector_update_all_nodes_health_duration_seconds');
  return Number(line.split(' ').pop());
}

/** The node is Ready and carries none of the node lifecycle controller's taints. */
async function readyUntainted(node: string): Promise<boolean> {
  const n = await kjson(['get', 'node', node]);
  const tainted = (n.spec?.taints ?? []).some((t: any) => NODE_HEALTH_TAINTS.includes(t.key));
  return cond(n, 'Ready')?.status === 'True' && !tainted;
}

/**
 * Until the node is Ready again, as kube-controller-manager sees it too; then the pods on it that
 * its node lifecycle controller marked not Ready are Ready again, as a kubelet's status sync would
 * make them.
 *
 * Why: until that controller's next pass (every 5 s, later under load) it still holds the node not
 * Ready and marks every pod bound to it `Ready=False` (MarkPodsNotReady), also a pod placed there
 * after the node recovered (the scheduler allows it: only the NoExecute taint is left, which pods
 * tolerate for 300 s). A kubelet would set Ready back at its next sync; KWOK never does, so such a
 * pod stayed Running and not Ready for good, and the next test's cluster never became Ready (seen
 * in CI under load). Seen by that controller means: its taints are gone and then two of its passes
 * ended (the second began after; the taints alone prove nothing when none was ever added, its
 * adds are rate-limited).
 */
export async function untilNodeReady(node: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(`node ${node} Ready, without the node controller's taints`, () => readyUntainted(node), timeoutMs);
  const { passes } = await waitFor('kube-controller-manager metrics', async () => ({
    passes: await nodeMonitorPasses(),
  }));
  await waitFor(
    `two node-health passes of kube-controller-manager after node ${node} was Ready`,
    async () => (await nodeMonitorPasses()) >= passes + 2 && readyUntainted(node),
    timeoutMs,
  );
  await waitFor(`the pods on node ${node} marked not Ready set Ready again`, () => resyncPodReadiness(node), 30_000);
}

/**
 * What a kubelet's status sync does for the pods on a Ready node: a running pod whose containers
 * are ready but that is marked not Ready (the node lifecycle controller's mark) is Ready again.
 * The patch carries the pod's resourceVersion: a pod changed meanwhile (by KWOK) is read again.
 * True when no such pod is left.
 */
async function resyncPodReadiness(node: string): Promise<boolean> {
  const pods = (await kjson(['get', 'pods', '-A', '--field-selector', `spec.nodeName=${node}`])).items;
  const marked = pods.filter(
    (p: any) =>
      p.status?.phase === 'Running' &&
      !p.metadata.deletionTimestamp &&
      cond(p, 'ContainersReady')?.status === 'True' &&
      cond(p, 'Ready')?.status === 'False',
  );
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  for (const p of marked) {
    const patch = {
      metadata: { resourceVersion: p.metadata.resourceVersion },
      status: { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }] },
    };
    const args = ['patch', 'pod', p.metadata.name, '-n', p.metadata.namespace, '--subresource=status'];
    await kubectl([...args, '--type=strategic', '-p', JSON.stringify(patch)]);
  }
  return marked.length === 0;
}

let nextPort = 19000 + Math.floor(Math.random() * 500) * 4;

/** The operator (src/main.ts) as a child process, the way `npm start` runs it: health, metrics and JSON logs. */
export class OperatorProcess {
  readonly healthPort = nextPort++;
  readonly metricsPort = nextPort++;
  readonly child: ChildProcess;
  readonly logs: any[] = [];
  exitCode: number | null | undefined;
  private exited: Promise<number | null>;

  /** Runs with the chart's ServiceAccount unless given another kubeconfig. */
  constructor(args: string[], opts: { kubeconfig?: string } = {}) {
    writeFileSync(this.logFile, '');
    this.child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'src/main.ts'),
        '--kubeconfig',
        opts.kubeconfig ?? OPERATOR_KUBECONFIG,
        '--bind-address',
        '127.0.0.1',
        '--health-port',
        String(this.healthPort),
        '--metrics-port',
        String(this.metricsPort),
        ...(process.env.GAFFER_TEST_LOG_LEVEL ? [`--log-level=${process.env.GAFFER_TEST_LOG_LEVEL}`] : []),
        ...args,
      ],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, HOSTNAME: `test-${this.healthPort}` },
      },
    );
    this.child.stdout!.on('data', this.lineReader());
    this.child.stderr!.on('data', this.lineReader());
    this.exited = new Promise((r) =>
      this.child.on('exit', (code) => {
        this.exitCode = code;
        r(code);
      }),
    );
  }

  /** Every line the operator printed, for reading after a failure (the test prints only the last ones). */
  readonly logFile = join(CLUSTER_DIR, 'logs', `test-operator-${this.healthPort}.log`);

  /** Collects whole lines of JSON (or raw text) into `logs`, and appends them to `logFile`. */
  private lineReader(): (d: Buffer) => void {
    let buf = '';
    return (d) => {
      buf += d.toString();
      appendFileSync(this.logFile, d);
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          this.logs.push(JSON.parse(line));
        } catch {
          this.logs.push({ raw: line });
        }
      }
    };
  }

  get identity(): string | undefined {
    return this.logs.find((l) => l.message === 'operator started')?.identity;
  }

  async get(port: number, path: string): Promise<{ status: number; body: string }> {
    const r = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: r.status, body: await r.text() };
  }

  readyz() {
    return this.get(this.healthPort, '/readyz');
  }

  async metrics(): Promise<string[]> {
    return (await this.get(this.metricsPort, '/metrics')).body.split('\n');
  }

  async metric(name: string, labels = ''): Promise<number | undefined> {
    const line = (await this.metrics()).find(
      (l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `) || (!labels && l.startsWith(`${name}{`)),
    );
    return line ? Number(line.split(' ').pop()) : undefined;
  }

  async isLeader(): Promise<boolean> {
    try {
      return (await this.metric('leader_election_master_status', 'name="gaffer"')) === 1;
    } catch {
      return false;
    }
  }

  async started(): Promise<void> {
    await waitFor(
      'operator started',
      async () =>
        this.exitCode === undefined
          ? !!this.identity
          : Promise.reject(new Error(`operator exited ${this.exitCode}: ${JSON.stringify(this.logs.slice(-5))}`)),
      60_000,
    );
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  wait(): Promise<number | null> {
    return this.exited;
  }

  async stop(): Promise<void> {
    if (this.exitCode !== undefined) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** Operators that a test starts, stopped after each test. */
export function operatorsPerTest() {
  const procs: OperatorProcess[] = [];
  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => p.stop()));
  });
  return (args: string[], kubeconfig?: string) => {
    const p = new OperatorProcess(args, { kubeconfig });
    procs.push(p);
    return p;
  };
}

export interface SuiteOptions {
  /** Run an operator for the namespace (--leader-elect=false --namespaces <ns>) with these extra arguments. */
  operator?: string[];
  /** Runs once the namespace exists, before the operator starts (what it needs at start, such as Kueue). */
  beforeOperator?: (ns: Namespace) => Promise<void>;
}

/** What setup() gives a describe block: filled in by its before hook. */
export interface Suite {
  ns: Namespace;
  /** The operator, with `operator` in the options. */
  op: OperatorProcess;
  /** Starts the operator (again, after a test killed it). */
  startOperator(): Promise<void>;
}

/**
 * Hooks for a describe block: the control plane up, a fresh namespace, and with `operator` an
 * operator watching it; all removed afterwards.
 */
export function setup(prefix: string, o: SuiteOptions = {}): Suite {
  const suite: Suite = {
    ns: undefined as unknown as Namespace,
    op: undefined as unknown as OperatorProcess,
    async startOperator() {
      suite.op = new OperatorProcess(['--leader-elect=false', '--namespaces', suite.ns.name, ...(o.operator ?? [])]);
      await suite.op.started();
    },
  };
  before(async () => {
    await ensureCluster();
    suite.ns = new Namespace(await testNamespace(prefix));
    await o.beforeOperator?.(suite.ns);
    if (o.operator) await suite.startOperator();
  });
  afterEach(function () {
    // The operator logs to memory: show its last lines when a test failed, for diagnosis.
    if (this.currentTest?.state === 'failed' && suite.op)
      console.log(
        [
          `      operator log: ${suite.op.logFile} (GAFFER_TEST_LOG_LEVEL=debug for more)`,
          ...suite.op.logs.slice(-40).map((l) => `      operator: ${JSON.stringify(l)}`),
        ].join('\n'),
      );
  });
  after(async () => {
    await suite.op?.stop();
    if (suite.ns) await deleteNamespace(suite.ns.name);
  });
  return suite;
}

/**
 * Runs `fn` with the suite's operator replaced by one (with `args` besides its namespace) that
 * talks to the API server through a fault proxy: a stale cache, held or refused writes. The
 * usual operator is started again afterwards.
 */
export async function withOperatorThroughFaultProxy(
  s: Suite,
  args: string[],
  fn: (proxy: FaultProxy) => Promise<void>,
): Promise<void> {
  const proxy = await clusterFaultProxy();
  await s.op.stop();
  s.op = new OperatorProcess(['--leader-elect=false', '--namespaces', s.ns.name, ...args], {
    kubeconfig: kubeconfigFileVia(OPERATOR_KUBECONFIG, proxy.port),
  });
  try {
    await s.op.started();
    await fn(proxy);
  } finally {
    await s.op.stop();
    await proxy.stop();
    await s.startOperator();
  }
}

/**
 * What a test's ValidatingAdmissionPolicy refuses: requests matching `rules` in `namespace` for which
 * `allow` is false.
 */
export interface Refusal {
  /** The policy's and its binding's name (cluster-scoped: make it unique per test). */
  name: string;
  namespace: string;
  rules: { apiGroups: string[]; apiVersions: string[]; operations: string[]; resources: string[] }[];
  /** CEL over the request (object, oldObject): false refuses it. */
  allow: string;
  message: string;
  /** True once the policy is in force (policies take effect asynchronously): a dry run it refuses. */
  inForce: () => Promise<boolean>;
}

/** Runs `fn` while a ValidatingAdmissionPolicy refuses what `r` says; removes it afterwards. */
export async function whileRefused<T>(r: Refusal, fn: () => Promise<T>): Promise<T> {
  await apply([
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name: r.name },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': r.namespace } },
          resourceRules: r.rules,
        },
        validations: [{ expression: r.allow, message: r.message }],
      },
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name: r.name },
      spec: { policyName: r.name, validationActions: ['Deny'] },
    },
  ]);
  try {
    await waitFor(`the policy ${r.name} in force`, r.inForce, 30_000);
    return await fn();
  } finally {
    await k(['delete', 'validatingadmissionpolicybinding,validatingadmissionpolicy', r.name, '--ignore-not-found']);
  }
}

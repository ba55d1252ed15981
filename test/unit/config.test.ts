import { expect } from 'chai';
import { ConfigError, helpText, parseConfig, parseDuration } from '../../src/config.ts';

describe('operator flags', () => {
  it('has sensible defaults', () => {
    const c = parseConfig([], {}) as any;
    expect(c).to.include({
      workers: 4,
      kubeApiQps: 200,
      kubeApiBurst: 400,
      leaderElect: true,
      leaderElectionNamespace: 'default',
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      healthPort: 8081,
      metricsPort: 8080,
      logLevel: 'info',
      backoffBaseMs: 5,
      backoffMaxMs: 1_000_000,
    });
    expect(c.namespaces).to.deep.equal([]);
  });
  it('reads values and the Lease namespace from POD_NAMESPACE', () => {
    const c = parseConfig(['--workers=8', '--namespaces', 'a,b', '--leader-elect=false', '--lease-duration', '30s'], {
      POD_NAMESPACE: 'ops',
    }) as any;
    expect(c).to.include({ workers: 8, leaderElect: false, leaseDurationMs: 30_000, leaderElectionNamespace: 'ops' });
    expect(c.namespaces).to.deep.equal(['a', 'b']);
  });
  for (const [args, msg] of [
    [['--workers=0'], '--workers: expected at least 1'],
    [['--workers=two'], '--workers: expected a whole number'],
    [['--metrics-port=70000'], '--metrics-port: expected a port'],
    [['--lease-duration=soon'], '--lease-duration: expected a positive duration'],
    [['--log-level=loud'], '--log-level: expected one of error, warn, info, debug'],
    [['--leader-elect=yes'], '--leader-elect: expected true or false'],
    [['--renew-deadline=20s'], '--lease-duration must be longer than --renew-deadline'],
    [['--bogus'], "Unknown option '--bogus'"],
  ] as const) {
    it(`rejects ${args.join(' ')} naming the flag`, () => {
      expect(() => parseConfig([...args], {})).to.throw(ConfigError, msg);
    });
  }
  it('lists every flag with its default in --help', () => {
    const h = helpText();
    for (const f of [
      '--kubeconfig',
      '--workers',
      '--kube-api-qps',
      '--kube-api-burst',
      '--leader-elect',
      '--lease-duration',
      '--renew-deadline',
      '--retry-period',
      '--health-port',
      '--metrics-port',
      '--log-level',
    ])
      expect(h).to.include(f);
    expect(h).to.include('(default: 15s)');
  });
  it('parses durations', () => {
    expect([
      parseDuration('15s'),
      parseDuration('500ms'),
      parseDuration('2m'),
      parseDuration('1h'),
      parseDuration('3'),
      parseDuration('x'),
    ]).to.deep.equal([15_000, 500, 120_000, 3_600_000, 3000, undefined]);
  });
});

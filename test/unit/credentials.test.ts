// The REST client's credentials: token files re-read, exec plugins run and cached. (What the
// client sends and how watches end is tested on the real API server: test/integration/kube-client.test.ts.)
import { expect } from 'chai';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  execCredentials,
  parseExecCredential,
  runExecPlugin,
  tokenFileCredentials,
} from '../../src/kube/credentials.ts';
import type { ExecSpec } from '../../src/kube/kubeconfig.ts';

describe('credentials', () => {
  it('a token file is re-read after a minute; the last good token is kept if a read fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gaffer-token-'));
    const file = join(dir, 'token');
    let now = 0;
    try {
      writeFileSync(file, 'one\n');
      const src = tokenFileCredentials(file, {}, () => now);
      expect(await src.get()).to.deep.equal({ token: 'one' });
      writeFileSync(file, 'two');
      now = 59_000;
      expect((await src.get()).token).to.equal('one');
      now = 60_000;
      expect((await src.get()).token).to.equal('two');
      rmSync(file);
      now = 200_000;
      expect((await src.get()).token).to.equal('two');
      const e = await tokenFileCredentials(file, {})
        .get()
        .catch((err: Error) => err);
      expect((e as Error).message).to.equal(
        `cannot read the token file ${file}: ENOENT: no such file or directory, open '${file}'`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const spec: ExecSpec = {
    user: 'u',
    apiVersion: 'client.authentication.k8s.io/v1',
    command: 'plugin',
    args: [],
    env: {},
    provideClusterInfo: false,
  };

  it('an exec plugin is run once at a time and its answer cached until it expires, or until a 401', async () => {
    let runs = 0;
    let now = 1000;
    const src = execCredentials(
      spec,
      undefined,
      async () => ({ creds: { token: `t${++runs}` }, expires: 2000 }),
      () => now,
    );
    const [a, b] = await Promise.all([src.get(), src.get()]);
    expect([a.token, b.token, runs]).to.deep.equal(['t1', 't1', 1]);
    expect((await src.get()).token).to.equal('t1');
    now = 2000;
    expect((await src.get()).token).to.equal('t2');
    src.invalidate();
    expect((await src.get()).token).to.equal('t3');
  });

  it('reads an ExecCredential: a token, or a client certificate and key, with an expiry', () => {
    const out = (status: object, apiVersion = spec.apiVersion) =>
      JSON.stringify({ apiVersion, kind: 'ExecCredential', status });
    expect(
      parseExecCredential(out({ token: 't', expirationTimestamp: '2026-11-26T08:00:00Z' }), spec.apiVersion),
    ).to.deep.equal({
      creds: { token: 't' },
      expires: Date.parse('2026-11-26T08:00:00Z'),
    });
    const cert = parseExecCredential(out({ clientCertificateData: 'CERT', clientKeyData: 'KEY' }), spec.apiVersion);
    expect(cert.creds).to.deep.equal({ cert: Buffer.from('CERT'), key: Buffer.from('KEY') });
    expect(() => parseExecCredential(out({}), spec.apiVersion)).to.throw('neither a token nor');
    expect(() =>
      parseExecCredential(out({ token: 't' }, 'client.authentication.k8s.io/v1beta1'), spec.apiVersion),
    ).to.throw('not ExecCredential client.authentication.k8s.io/v1');
    expect(() => parseExecCredential('Please log in', spec.apiVersion)).to.throw('did not print an ExecCredential');
  });

  it('runs the plugin with its args and env and KUBERNETES_EXEC_INFO; a failure names the user and says why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gaffer-exec-'));
    try {
      const plugin = join(dir, 'plugin');
      writeFileSync(
        plugin,
        `#!/bin/sh
[ "$1" = fail ] && { echo "not logged in" >&2; exit 3; }
interactive=$(echo "$KUBERNETES_EXEC_INFO" | grep -c '"interactive":false')
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s-%s-%s"}}' "$1" "$TEAM" "$interactive"
`,
      );
      chmodSync(plugin, 0o755);
      const ok = await runExecPlugin({ ...spec, command: plugin, args: ['arg'], env: { TEAM: 'blue' } });
      expect(ok.creds).to.deep.equal({ token: 'arg-blue-1' });
      const failed = await runExecPlugin({ ...spec, command: plugin, args: ['fail'] }).catch((e: Error) => e);
      expect((failed as Error).message).to.match(
        /exec plugin ".*plugin" of user "u" failed: exit status 3: not logged in$/,
      );
      const missing = await runExecPlugin({
        ...spec,
        command: join(dir, 'nope'),
        installHint: 'install it from example.com',
      }).catch((e: Error) => e);
      expect((missing as Error).message).to.include('install it from example.com');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

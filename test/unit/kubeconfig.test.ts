import { expect } from 'chai';
import { parse } from 'yaml';
import { NO_CLUSTER, inClusterSpec, kubeconfigPath, resolveKubeconfig } from '../../src/kube/kubeconfig.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** A kubeconfig with one context "c" of cluster "k" and user "u". */
const kubeconfig = (cluster: string, user: string) =>
  parse(`
apiVersion: v1
kind: Config
current-context: c
contexts:
- name: c
  context: {cluster: k, user: u}
- name: other
  context: {cluster: nowhere, user: u}
clusters:
- name: k
  cluster: ${cluster}
users:
- name: u
  user: ${user}
`);

const resolve = (cluster: string, user = '{}') =>
  resolveKubeconfig(kubeconfig(cluster, user), '/home/me/.kube', 'kubeconfig /home/me/.kube/config');

describe('kubeconfig', () => {
  describe('which file', () => {
    const files = new Set(['/a/config', '/b/config', '/home/me/.kube/config']);
    const exists = (f: string) => files.has(f);
    const cases: [string, string | undefined, Record<string, string>, string | undefined][] = [
      ['--kubeconfig wins', '/x/given', { KUBECONFIG: '/a/config', HOME: '/home/me' }, '/x/given'],
      ['$KUBECONFIG', undefined, { KUBECONFIG: '/a/config', HOME: '/home/me' }, '/a/config'],
      [
        'the first existing file of a $KUBECONFIG list',
        undefined,
        { KUBECONFIG: '/missing:/b/config:/a/config' },
        '/b/config',
      ],
      ['~/.kube/config', undefined, { HOME: '/home/me' }, '/home/me/.kube/config'],
      ['no file: in-cluster', undefined, { HOME: '/home/nobody' }, undefined],
      ['an empty $KUBECONFIG is unset', undefined, { KUBECONFIG: '', HOME: '/home/me' }, '/home/me/.kube/config'],
    ];
    for (const [what, explicit, env, want] of cases)
      it(what, () => expect(kubeconfigPath(explicit, env, exists)).to.equal(want));
    it('a $KUBECONFIG of files that do not exist is an error that names it', () =>
      expect(() => kubeconfigPath(undefined, { KUBECONFIG: '/no:/nope' }, exists)).to.throw('/no:/nope'));
  });

  describe('in cluster', () => {
    it('the service host and port, the mounted CA and token file', () =>
      expect(
        inClusterSpec({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, '/sa'),
      ).to.deep.equal({
        origin: 'in-cluster service account',
        server: 'https://10.96.0.1:443',
        ca: { file: '/sa/ca.crt' },
        insecureSkipTlsVerify: false,
        tokenFile: '/sa/token',
      }));
    it('an IPv6 service host is bracketed', () =>
      expect(inClusterSpec({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' })?.server).to.equal(
        'https://[fd00::1]:443',
      ));
    it('not in a cluster', () => expect(inClusterSpec({ KUBERNETES_SERVICE_HOST: '10.96.0.1' })).to.equal(undefined));
  });

  describe('the current context', () => {
    it('cluster files resolve against the kubeconfig directory; client certificate files too', () => {
      const s = resolve(
        '{server: "https://127.0.0.1:6443", certificate-authority: pki/ca.crt, tls-server-name: kubernetes}',
        '{client-certificate: /abs/admin.crt, client-key: ../admin.key}',
      );
      expect(s).to.deep.include({
        server: 'https://127.0.0.1:6443',
        ca: { file: '/home/me/.kube/pki/ca.crt' },
        insecureSkipTlsVerify: false,
        tlsServerName: 'kubernetes',
        clientCert: { file: '/abs/admin.crt' },
        clientKey: { file: '/home/me/admin.key' },
      });
      expect(s.origin).to.equal('kubeconfig /home/me/.kube/config (context "c")');
    });

    it('*-data fields are base64 and win over files', () => {
      const s = resolve(
        `{server: "https://h", certificate-authority-data: ${b64('CA')}, certificate-authority: ignored.crt}`,
        `{client-certificate-data: ${b64('CERT')}, client-key-data: ${b64('KEY')}}`,
      );
      expect(s.ca).to.deep.equal({ data: Buffer.from('CA') });
      expect(s.clientCert).to.deep.equal({ data: Buffer.from('CERT') });
      expect(s.clientKey).to.deep.equal({ data: Buffer.from('KEY') });
    });

    it('insecure-skip-tls-verify, a token, a token file', () => {
      const s = resolve('{server: "https://h", insecure-skip-tls-verify: true}', '{token: abc, tokenFile: token}');
      expect(s).to.deep.include({ insecureSkipTlsVerify: true, token: 'abc', tokenFile: '/home/me/.kube/token' });
    });

    it('an exec plugin: command resolved like client-go, args and env', () => {
      const user = (command: string) =>
        `{exec: {apiVersion: client.authentication.k8s.io/v1, command: ${command}, args: [token, --x], env: [{name: A, value: "1"}], provideClusterInfo: true}}`;
      const s = resolve('{server: "https://h"}', user('./bin/get-token'));
      expect(s.exec).to.deep.equal({
        user: 'u',
        apiVersion: 'client.authentication.k8s.io/v1',
        command: '/home/me/.kube/bin/get-token',
        args: ['token', '--x'],
        env: { A: '1' },
        installHint: undefined,
        provideClusterInfo: true,
      });
      expect(resolve('{server: "https://h"}', user('aws')).exec?.command).to.equal('aws'); // looked up in PATH
    });

    it('a v1beta1 exec plugin with no args or env', () => {
      const s = resolve(
        '{server: "https://h"}',
        '{exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: gke-gcloud-auth-plugin}}',
      );
      expect(s.exec).to.deep.include({ args: [], env: {}, provideClusterInfo: false });
    });

    it('a context without a user: no credentials', () => {
      const doc = kubeconfig('{server: "https://h"}', '{}');
      doc.contexts[0].context.user = undefined;
      expect(resolveKubeconfig(doc, '/d', 'k')).to.deep.equal({
        origin: 'k (context "c")',
        server: 'https://h',
        ca: undefined,
        insecureSkipTlsVerify: false,
        tlsServerName: undefined,
      });
    });
  });

  describe('refused', () => {
    const cases: [string, () => unknown, string | RegExp][] = [
      ['an empty file', () => resolveKubeconfig(null, '/d', 'k'), NO_CLUSTER],
      [
        'no current context',
        () => resolveKubeconfig({ ...kubeconfig('{server: x}', '{}'), 'current-context': undefined }, '/d', 'k'),
        NO_CLUSTER,
      ],
      [
        'a context whose cluster is missing',
        () => resolveKubeconfig({ ...kubeconfig('{server: x}', '{}'), 'current-context': 'other' }, '/d', 'k'),
        NO_CLUSTER,
      ],
      ['a cluster without a server', () => resolve('{certificate-authority: ca.crt}'), 'cluster "k" has no server'],
      [
        'a proxy-url',
        () => resolve('{server: "https://h", proxy-url: "http://proxy:3128"}'),
        'cluster "k" sets proxy-url, which is not supported',
      ],
      [
        'a legacy auth-provider',
        () => resolve('{server: "https://h"}', '{auth-provider: {name: gcp}}'),
        /user "u" uses auth-provider, which is not supported; supported: client-certificate.*token, tokenFile, and exec plugins \(client.authentication.k8s.io\/v1, client.authentication.k8s.io\/v1beta1\)/,
      ],
      [
        'basic auth',
        () => resolve('{server: "https://h"}', '{username: a, password: b}'),
        'user "u" uses username, password, which is not supported',
      ],
      [
        'impersonation',
        () => resolve('{server: "https://h"}', '{token: t, as: admin}'),
        'user "u" uses as, which is not supported',
      ],
      [
        'an exec plugin of an old apiVersion',
        () =>
          resolve('{server: "https://h"}', '{exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: x}}'),
        'user "u" has an exec plugin of apiVersion "client.authentication.k8s.io/v1alpha1"',
      ],
      [
        'an exec plugin without a command',
        () => resolve('{server: "https://h"}', '{exec: {apiVersion: client.authentication.k8s.io/v1}}'),
        'without a command',
      ],
      [
        'a certificate without a key',
        () => resolve('{server: "https://h"}', '{client-certificate: a.crt}'),
        'a client certificate without a key',
      ],
      [
        'a user that is not in the file',
        () => {
          const doc = kubeconfig('{server: "https://h"}', '{}');
          doc.contexts[0].context.user = 'ghost';
          return resolveKubeconfig(doc, '/d', 'k');
        },
        'context "c" names user "ghost", which is not in the file',
      ],
    ];
    for (const [what, fn, message] of cases) it(what, () => expect(fn).to.throw(message));
  });
});

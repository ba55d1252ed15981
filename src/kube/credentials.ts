// Credentials per request: a fixed token or client certificate, a token file re-read every
// minute (bound service-account tokens rotate; client-go re-reads as often), or an exec
// plugin's ExecCredential, cached until it expires or the server answers 401.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { ExecSpec } from './kubeconfig.ts';

export interface Credentials {
  token?: string;
  cert?: Buffer;
  key?: Buffer;
}

export interface CredentialSource {
  get(): Promise<Credentials>;
  /** The server refused them (401): fetch fresh ones next time. */
  invalidate(): void;
}

export const TOKEN_FILE_REFRESH_MS = 60_000;

export const staticCredentials = (c: Credentials): CredentialSource => ({
  get: () => Promise.resolve(c),
  invalidate: () => {},
});

/** A bearer token read from a file, re-read when older than a minute (the last good one is kept on a read error). */
export function tokenFileCredentials(file: string, base: Credentials, now = Date.now): CredentialSource {
  let token: string | undefined;
  let readAt = -Infinity;
  return {
    async get() {
      if (token === undefined || now() - readAt >= TOKEN_FILE_REFRESH_MS) {
        try {
          token = (await readFile(file, 'utf8')).trim();
          readAt = now();
        } catch (e) {
          if (token === undefined)
            throw new Error(`cannot read the token file ${file}: ${(e as Error).message}`, { cause: e });
        }
      }
      return { ...base, token };
    },
    invalidate: () => {
      readAt = -Infinity;
    },
  };
}

/** What the cluster is, for a plugin that asks (provideClusterInfo). */
export interface ExecClusterInfo {
  server: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
}

interface ExecCredential {
  apiVersion?: string;
  kind?: string;
  status?: { token?: string; clientCertificateData?: string; clientKeyData?: string; expirationTimestamp?: string };
}

/** Runs the plugin and reads its ExecCredential. */
export async function runExecPlugin(
  spec: ExecSpec,
  cluster?: ExecClusterInfo,
): Promise<{ creds: Credentials; expires?: number }> {
  const info = {
    apiVersion: spec.apiVersion,
    kind: 'ExecCredential',
    spec: { interactive: false, ...(cluster ? { cluster } : {}) },
  };
  const what = `exec plugin "${spec.command}" of user "${spec.user}"`;
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      spec.command,
      spec.args,
      {
        env: { ...process.env, ...spec.env, KUBERNETES_EXEC_INFO: JSON.stringify(info) },
        timeout: 60_000,
        maxBuffer: 1 << 20,
      },
      (err, out, errText) => {
        if (!err) return resolve(out);
        const code = (err as { code?: unknown }).code;
        const hint = code === 'ENOENT' && spec.installHint ? `; ${spec.installHint.trim()}` : '';
        let why = typeof code === 'number' ? `exit status ${code}` : err.message;
        if (err.killed) why = 'no answer in 60 s';
        const detail = String(errText).trim().slice(0, 500);
        reject(new Error(`${what} failed: ${why}${detail ? `: ${detail}` : ''}${hint}`));
      },
    );
  });
  return parseExecCredential(stdout, spec.apiVersion, what);
}

export function parseExecCredential(
  stdout: string,
  apiVersion: string,
  what = 'exec plugin',
): { creds: Credentials; expires?: number } {
  let out: ExecCredential;
  try {
    out = JSON.parse(stdout) as ExecCredential;
  } catch {
    throw new Error(`${what} did not print an ExecCredential as JSON`);
  }
  if (out.kind !== 'ExecCredential' || out.apiVersion !== apiVersion)
    throw new Error(`${what} printed ${out.kind} ${out.apiVersion}, not ExecCredential ${apiVersion}`);
  const s = out.status ?? {};
  const creds: Credentials = {};
  if (s.token) creds.token = s.token;
  if (s.clientCertificateData && s.clientKeyData) {
    creds.cert = Buffer.from(s.clientCertificateData);
    creds.key = Buffer.from(s.clientKeyData);
  }
  if (!creds.token && !creds.cert) throw new Error(`${what} returned neither a token nor a client certificate and key`);
  const expires = s.expirationTimestamp ? Date.parse(s.expirationTimestamp) : undefined;
  return { creds, expires: Number.isNaN(expires) ? undefined : expires };
}

/** An exec plugin's credentials, run once at a time and cached until their expirationTimestamp. */
export function execCredentials(
  spec: ExecSpec,
  cluster?: ExecClusterInfo,
  run = runExecPlugin,
  now = Date.now,
): CredentialSource {
  let cached: { creds: Credentials; expires?: number } | undefined;
  let running: Promise<Credentials> | undefined;
  return {
    get() {
      if (cached && (cached.expires === undefined || now() < cached.expires)) return Promise.resolve(cached.creds);
      running ??= run(spec, cluster).then(
        (r) => {
          cached = r;
          running = undefined;
          return r.creds;
        },
        (e: unknown) => {
          running = undefined;
          throw e;
        },
      );
      return running;
    },
    invalidate: () => {
      cached = undefined;
    },
  };
}

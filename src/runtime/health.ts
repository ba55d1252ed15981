// /healthz and /readyz on one port, /metrics on another (node:http; nothing else needed).
import { createServer, type Server } from 'node:http';
import type { Metrics } from './metrics.ts';

export interface Probe {
  (): { ok: boolean; detail: string };
}

function listen(server: Server, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

export function startHealthServer(
  port: number,
  host: string,
  checks: { healthz: Probe; readyz: Probe },
): Promise<Server> {
  const probes = new Map<string, Probe>([
    ['/healthz', checks.healthz],
    ['/livez', checks.healthz],
    ['/readyz', checks.readyz],
  ]);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const probe = probes.get(path);
    if (!probe) {
      res.writeHead(404).end('not found\n');
      return;
    }
    const { ok, detail } = probe();
    res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(`${detail}\n`);
  });
  return listen(server, port, host);
}

export function startMetricsServer(port: number, host: string, metrics: Metrics): Promise<Server> {
  const server = createServer(async (req, res) => {
    if ((req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404).end('not found\n');
      return;
    }
    try {
      const body = await metrics.registry.metrics();
      res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body);
    } catch (e) {
      res.writeHead(500).end(String(e));
    }
  });
  return listen(server, port, host);
}

export const closeServer = (s: Server | undefined) =>
  new Promise<void>((r) => {
    if (!s) return r();
    s.close(() => r());
    s.closeAllConnections?.();
  });

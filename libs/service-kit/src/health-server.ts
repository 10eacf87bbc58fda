/**
 * The health + metrics HTTP endpoint (EKM_HTTP_PORT), a plain node:http server: Nest's HTTP
 * platform would add a second app for three fixed routes.
 *   GET /health/live   200 while the process runs
 *   GET /health/ready  200 when every readiness check passes, else 503 naming the failing checks
 *   GET /metrics       Prometheus text
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestMetrics } from './metrics';
import type { ReadinessRegistry } from './readiness';

export class HealthServer {
  private server: Server | null = null;

  constructor(private readonly readiness: ReadinessRegistry, private readonly metrics: RequestMetrics) {}

  /** Starts listening on `port` (0 = any free port) and returns the bound port. */
  async listen(port: number, host = '0.0.0.0'): Promise<number> {
    const server = createServer((req, res) => {
      const send = (status: number, body: string, type = 'application/json'): void => {
        res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
        res.end(body);
      };
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, JSON.stringify({ error: 'method not allowed' }));
      if (path === '/health/live') return send(200, JSON.stringify({ status: 'live' }));
      if (path === '/health/ready') {
        void this.readiness.run().then(
          (r) => {
            const failing = r.checks.filter((c) => !c.ok);
            send(r.ok ? 200 : 503, JSON.stringify({ status: r.ok ? 'ready' : 'not ready', checks: r.checks, ...(r.ok ? {} : { failing: failing.map((c) => c.name) }) }));
          },
          () => send(503, JSON.stringify({ status: 'not ready', failing: ['readiness'] })),
        );
        return;
      }
      if (path === '/metrics') {
        void this.metrics.render().then((text) => send(200, text, this.metrics.contentType), () => send(500, 'metrics unavailable\n', 'text/plain'));
        return;
      }
      send(404, JSON.stringify({ error: 'not found' }));
    });
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    return (server.address() as AddressInfo).port;
  }

  /** The bound port, once listening. */
  get port(): number | undefined {
    return (this.server?.address() as AddressInfo | null)?.port;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

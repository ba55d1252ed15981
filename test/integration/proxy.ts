// A loopback TCP proxy in front of the API server, to fail the network in chosen ways: cut every
// connection, reset a kept-alive connection when it is used again, or hold new connections
// (their requests wait unanswered) until released. TLS passes through untouched.
import { connect, createServer, type Server, type Socket } from 'node:net';

export class LoopbackProxy {
  port = 0;
  /** Connections reset by resetOnReuse(). */
  resets = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly open = new Set<Socket>();
  private hold = 0;
  private readonly held: (() => void)[] = [];

  constructor(private readonly targetPort: number) {}

  async start(): Promise<this> {
    this.server = createServer((client) => {
      this.track(client);
      this.open.add(client);
      client.on('close', () => this.open.delete(client));
      const forward = () => {
        const upstream = connect(this.targetPort, '127.0.0.1');
        this.track(upstream);
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
        client.pipe(upstream).pipe(client);
      };
      if (this.hold > 0) {
        this.hold--;
        client.pause();
        this.held.push(forward);
      } else forward();
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  private track(s: Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => {});
  }

  /** Ends every connection through the proxy at once, as a network failure would. */
  cut(): void {
    for (const s of this.sockets) s.destroy();
  }

  /**
   * The connections open now are reset (TCP RST) as soon as the client sends on them again: what a
   * client sees when it reuses a kept-alive socket that the server has just closed.
   */
  resetOnReuse(): void {
    for (const c of this.open) {
      c.unpipe();
      c.removeAllListeners('data');
      c.once('data', () => {
        this.resets++;
        c.resetAndDestroy();
      });
      c.resume(); // unpipe() paused it
    }
  }

  /** The next `n` new connections are accepted but not forwarded until release(). */
  holdNew(n: number): void {
    this.hold = n;
  }

  release(): void {
    this.hold = 0;
    for (const f of this.held.splice(0)) f();
  }

  async stop(): Promise<void> {
    this.release();
    this.cut();
    await new Promise((r) => this.server?.close(r));
  }
}

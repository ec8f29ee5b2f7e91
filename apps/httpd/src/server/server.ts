import type { ThreadSpawner } from '@uk/hal';
import type { TcpModule, TcpServer } from '@uk/net';
import { type ConnectionEnv, serveConnection } from '../http/connection.js';
import type { StaticHandler } from '../http/handler.js';
import type { HttpLimits } from '../http/limits.js';
import type { Site } from '../http/site.js';
import { tcpStream } from './tcp-stream.js';

export interface ServerCounters {
  connections: number;
  active: number;
  /** Connections closed at once because `maxConnections` were open. */
  turnedAway: number;
  requests: number;
  /** Requests answered with a 4xx/5xx before the handler, or dropped (408, 431...). */
  refused: number;
  errors: number;
}

/**
 * The accept loop: every connection is a thread of its own (the cooperative scheduler's), so
 * a slow client waits in its own thread and everyone else goes on. At most
 * `limits.maxConnections` are served at once.
 */
export class HttpServer {
  readonly counters: ServerCounters = { connections: 0, active: 0, turnedAway: 0, requests: 0, refused: 0, errors: 0 };
  #server: TcpServer | undefined;
  #stopping = false;
  readonly #open = new Set<{ abort(): void }>();
  #idle: (() => void) | undefined;

  constructor(
    private readonly tcp: TcpModule,
    private readonly threads: ThreadSpawner,
    private readonly handler: StaticHandler,
    private readonly site: Site,
    private readonly limits: HttpLimits,
    private readonly now: () => number,
    private readonly log: (line: string) => void,
  ) {}

  /** Listens on `port` and serves until stop(); resolves once stopped. */
  async serve(port: number): Promise<void> {
    const server = await this.tcp.listen({ port, backlog: 1024, synBacklog: 1024, options: { noDelay: true } });
    this.#server = server;
    const env: ConnectionEnv = {
      limits: this.limits,
      now: this.now,
      handle: (req) => this.handler.handle(req),
      readFile: (path, position, length) => this.site.read(path, position, length),
      served: () => {
        this.counters.requests++;
      },
      refused: (status, reason) => {
        if (status === 0 || status >= 500) {
          this.counters.errors++;
          if (status >= 500) this.log(`httpd: ${status}: ${reason}`);
        } else this.counters.refused++;
      },
    };
    for (;;) {
      let sock: Awaited<ReturnType<TcpServer['accept']>>;
      try {
        sock = await server.accept();
      } catch {
        break; // closed by stop()
      }
      if (this.counters.active >= this.limits.maxConnections) {
        this.counters.turnedAway++;
        sock.abort();
        continue;
      }
      this.counters.connections++;
      this.counters.active++;
      const stream = tcpStream(sock);
      this.#open.add(stream);
      this.threads
        .spawn(`http ${this.counters.connections}`, () => serveConnection(stream, env))
        .catch(() => {
          this.counters.errors++;
        })
        .finally(() => {
          this.#open.delete(stream);
          this.counters.active--;
          if (this.counters.active === 0) this.#idle?.();
        });
    }
  }

  /** Called each time the last open connection closes. */
  onIdle(fn: () => void): void {
    this.#idle = fn;
  }

  /** Stops accepting and resets what is open. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    await this.#server?.close();
    for (const s of this.#open) s.abort();
  }
}

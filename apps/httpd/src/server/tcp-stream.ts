import type { TcpSocket } from '@uk/net';
import type { HttpStream } from '../http/connection.js';

/** A TCP socket as the HTTP loop's stream. */
export function tcpStream(sock: TcpSocket): HttpStream {
  return {
    read: (timeoutMs) => sock.read({ timeoutMs, max: 16384 }),
    write: (data, timeoutMs) => sock.write(data, { timeoutMs }),
    close: () => {
      void sock.close().catch(() => {});
    },
    abort: () => sock.abort(),
  };
}

import type net from 'node:net';
import type { TcpConnection } from '@uk/net';

export interface SpliceEvents {
  /** The host socket is gone (closed, reset or destroyed): its share of the budget is free. */
  hostClosed(): void;
  /** The gateway's connection to the guest is gone for good (after TIME-WAIT, if any). */
  guestClosed?(): void;
}

/** Counters of all splices of one user network. */
export interface SpliceStats {
  bytesToGuest: number;
  bytesToHost: number;
  resetsToGuest: number;
  resetsToHost: number;
}

/**
 * Joins a connection of the gateway's TCP (to the guest) and a host socket: bytes, half-closes
 * and resets go across, each way at the pace of the slower side. Guest data is acknowledged
 * to the guest's TCP only as the host socket takes it (its window closes when the host stalls);
 * host data is read only while the guest's send buffer has room.
 */
export function splice(c: TcpConnection, s: net.Socket, stats: SpliceStats, events: SpliceEvents): void {
  /** Bytes handed to the socket while it was over its high-water mark: acknowledged on drain. */
  let owed = 0;
  /** Host data the guest side had no room for yet. */
  let backlog: Uint8Array | null = null;
  let hostEnded = false;
  let hostGone = false;

  const shutGuest = (): void => {
    if (c.gone) return;
    try {
      c.shutdown();
    } catch {
      // Already closed: nothing to send a FIN on.
    }
  };

  const toGuest = (d: Uint8Array): void => {
    let n = 0;
    try {
      n = c.write(d);
    } catch {
      // The guest side is closed or shut: what the host still sends has nowhere to go.
      s.destroy();
      return;
    }
    stats.bytesToGuest += n;
    if (n < d.length) {
      backlog = d.subarray(n);
      s.pause();
    }
  };

  c.setHandlers({
    recv(conn, buf) {
      const len = buf.length;
      if (hostGone || s.destroyed) {
        buf.release();
        conn.recved(len);
        return;
      }
      // The buffer's store is the gateway's own copy of the frame, never reused: lend it.
      const chunk = Buffer.from(buf.store.buffer, buf.store.byteOffset + buf.offset, len);
      stats.bytesToHost += len;
      if (s.write(chunk)) conn.recved(len);
      else owed += len;
      buf.release();
    },
    end() {
      if (!s.destroyed) s.end();
    },
    sent() {
      if (backlog === null) return;
      const d = backlog;
      backlog = null;
      toGuest(d);
      if (backlog === null && !s.destroyed) {
        if (hostEnded) shutGuest();
        else s.resume();
      }
    },
    error() {
      if (!s.destroyed) {
        stats.resetsToHost++;
        s.resetAndDestroy();
      }
    },
    closed() {
      // After the guest's FIN the socket finishes on its own (flushing what it holds); without
      // one (aborted by the gateway) it goes now.
      if (!s.destroyed && !s.writableEnded) s.destroy();
      events.guestClosed?.();
    },
  });

  s.on('data', (d: Buffer) => {
    if (backlog !== null) {
      // Paused, yet a chunk was already on its way: keep it behind the rest.
      const joined = new Uint8Array(backlog.length + d.length);
      joined.set(backlog, 0);
      joined.set(d, backlog.length);
      backlog = joined;
      return;
    }
    toGuest(d);
  });
  s.on('drain', () => {
    if (owed > 0 && !c.gone) c.recved(owed);
    owed = 0;
  });
  s.on('end', () => {
    hostEnded = true;
    if (backlog === null) shutGuest();
  });
  s.on('error', () => {
    // 'close' follows with hadError; the guest is reset there.
  });
  s.on('close', (hadError: boolean) => {
    hostGone = true;
    if (!c.gone && (hadError || !hostEnded)) {
      // The host reset or vanished: so does the guest's connection.
      stats.resetsToGuest++;
      c.abort();
    }
    events.hostClosed();
  });
  s.resume();
}

import { closeSync, openSync, writeSync } from 'node:fs';
import { DEFAULT_SNAPLEN, LINKTYPE_ETHERNET, PCAP_GLOBAL_HEADER, PCAP_MAGIC_US, PCAP_RECORD_HEADER } from './pcap-format.js';

/** Bytes gathered before they go to the file. */
const CHUNK = 256 * 1024;

/**
 * Writes a capture in the classic pcap format, Ethernet link type, microsecond timestamps.
 * Records are gathered in memory and written at the end of each event-loop turn (or when a
 * chunk fills), so a capture costs a copy per frame, not a system call.
 */
export class PcapWriter {
  /** Frames written. */
  frames = 0;
  private fd: number;
  private readonly buf = Buffer.allocUnsafe(CHUNK);
  private n = 0;
  private scheduled = false;

  /**
   * Opens `path`; `append` continues a capture this process started earlier (no second
   * header), as after a guest reboot.
   */
  constructor(
    readonly path: string,
    append = false,
    readonly snaplen = DEFAULT_SNAPLEN,
  ) {
    this.fd = openSync(path, append ? 'a' : 'w');
    if (!append) {
      const h = Buffer.alloc(PCAP_GLOBAL_HEADER);
      h.writeUInt32LE(PCAP_MAGIC_US, 0);
      h.writeUInt16LE(2, 4);
      h.writeUInt16LE(4, 6);
      h.writeInt32LE(0, 8);
      h.writeUInt32LE(0, 12);
      h.writeUInt32LE(snaplen, 16);
      h.writeUInt32LE(LINKTYPE_ETHERNET, 20);
      writeSync(this.fd, h);
    }
  }

  /** Records a frame seen now. */
  write(frame: Uint8Array): void {
    if (this.fd < 0) return;
    const incl = Math.min(frame.length, this.snaplen);
    if (this.n + PCAP_RECORD_HEADER + incl > CHUNK) this.flush();
    const us = wallClockMicros();
    const b = this.buf;
    if (PCAP_RECORD_HEADER + incl > CHUNK) {
      // Larger than a chunk (only with a huge snaplen): straight to the file.
      const h = Buffer.alloc(PCAP_RECORD_HEADER);
      writeRecordHeader(h, 0, us, incl, frame.length);
      writeSync(this.fd, h);
      writeSync(this.fd, frame.subarray(0, incl));
    } else {
      writeRecordHeader(b, this.n, us, incl, frame.length);
      b.set(frame.subarray(0, incl), this.n + PCAP_RECORD_HEADER);
      this.n += PCAP_RECORD_HEADER + incl;
    }
    this.frames++;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.fd < 0 || this.n === 0) return;
    let off = 0;
    while (off < this.n) off += writeSync(this.fd, this.buf, off, this.n - off);
    this.n = 0;
  }

  close(): void {
    if (this.fd < 0) return;
    this.flush();
    closeSync(this.fd);
    this.fd = -1;
  }
}

function writeRecordHeader(b: Buffer, at: number, us: number, incl: number, orig: number): void {
  b.writeUInt32LE(Math.floor(us / 1e6) >>> 0, at);
  b.writeUInt32LE(us % 1e6, at + 4);
  b.writeUInt32LE(incl, at + 8);
  b.writeUInt32LE(orig, at + 12);
}

function wallClockMicros(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

import { LINKTYPE_ETHERNET, PCAP_GLOBAL_HEADER, PCAP_MAGIC_NS, PCAP_MAGIC_US, PCAP_RECORD_HEADER, PcapError } from './pcap-format.js';

export interface PcapRecord {
  /** Seconds and nanoseconds since the epoch. */
  readonly sec: number;
  readonly nsec: number;
  /** The captured bytes (a view of the file's bytes). */
  readonly data: Uint8Array;
  /** The frame's length on the wire (more than data.length when it was cut at snaplen). */
  readonly origLen: number;
}

export interface PcapFile {
  readonly linkType: number;
  readonly snaplen: number;
  readonly nanoseconds: boolean;
  readonly records: PcapRecord[];
}

/**
 * Reads a classic pcap file of either byte order and either timestamp resolution. A file
 * that is not pcap, or whose last record is cut short, is a PcapError saying where.
 */
export function readPcap(bytes: Uint8Array): PcapFile {
  if (bytes.length < PCAP_GLOBAL_HEADER) throw new PcapError(`${bytes.length} bytes are too few for a pcap file (the header alone is ${PCAP_GLOBAL_HEADER})`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let le: boolean;
  let nanoseconds: boolean;
  const m = v.getUint32(0, true);
  if (m === PCAP_MAGIC_US || m === PCAP_MAGIC_NS) le = true;
  else if (v.getUint32(0, false) === PCAP_MAGIC_US || v.getUint32(0, false) === PCAP_MAGIC_NS) le = false;
  else throw new PcapError(`not a pcap file: magic 0x${m.toString(16)} (pcapng is not read here)`);
  nanoseconds = v.getUint32(0, le) === PCAP_MAGIC_NS;
  const snaplen = v.getUint32(16, le);
  const linkType = v.getUint32(20, le);
  const records: PcapRecord[] = [];
  let at = PCAP_GLOBAL_HEADER;
  while (at < bytes.length) {
    if (at + PCAP_RECORD_HEADER > bytes.length) throw new PcapError(`record ${records.length + 1} at byte ${at}: header cut short`);
    const sec = v.getUint32(at, le);
    const frac = v.getUint32(at + 4, le);
    const incl = v.getUint32(at + 8, le);
    const origLen = v.getUint32(at + 12, le);
    at += PCAP_RECORD_HEADER;
    if (at + incl > bytes.length) throw new PcapError(`record ${records.length + 1} at byte ${at - PCAP_RECORD_HEADER}: ${incl} bytes announced, ${bytes.length - at} left`);
    records.push({ sec, nsec: nanoseconds ? frac : frac * 1000, data: bytes.subarray(at, at + incl), origLen });
    at += incl;
  }
  return { linkType, snaplen, nanoseconds, records };
}

export function isEthernetCapture(f: PcapFile): boolean {
  return f.linkType === LINKTYPE_ETHERNET;
}

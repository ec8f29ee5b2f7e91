/**
 * The classic libpcap file format (what `tcpdump -w` writes and `tshark -r` reads): a 24-byte
 * global header, then per packet a 16-byte record header and the bytes.
 *
 *   global: u32 magic, u16 version_major (2), u16 version_minor (4), i32 thiszone, u32 sigfigs,
 *           u32 snaplen, u32 network (link type)
 *   record: u32 ts_sec, u32 ts_usec (ns with the nanosecond magic), u32 incl_len, u32 orig_len
 */
export const PCAP_MAGIC_US = 0xa1b2_c3d4;
export const PCAP_MAGIC_NS = 0xa1b2_3c4d;
export const PCAP_GLOBAL_HEADER = 24;
export const PCAP_RECORD_HEADER = 16;
/** LINKTYPE_ETHERNET: IEEE 802.3 frames without the FCS. */
export const LINKTYPE_ETHERNET = 1;
export const DEFAULT_SNAPLEN = 262_144;

export class PcapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PcapError';
  }
}

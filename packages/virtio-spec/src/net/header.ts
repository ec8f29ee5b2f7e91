/**
 * The header in front of every packet on a virtio-net queue (virtio 1.2 §5.1.6):
 *
 *   struct virtio_net_hdr { u8 flags; u8 gso_type; le16 hdr_len; le16 gso_size;
 *                           le16 csum_start; le16 csum_offset; le16 num_buffers;
 *                           le32 hash_value; le16 hash_report; le16 padding_reserved; }
 *
 * With VERSION_1 num_buffers is always present (12 bytes); the hash fields only when
 * VIRTIO_NET_F_HASH_REPORT is negotiated (20 bytes).
 */
export const NET_HDR_SIZE = 12;
export const NET_HDR_SIZE_WITH_HASH = 20;

export const NetHdrField = {
  flags: 0,
  gsoType: 1,
  hdrLen: 2,
  gsoSize: 4,
  csumStart: 6,
  csumOffset: 8,
  numBuffers: 10,
  hashValue: 12,
  hashReport: 16,
} as const;

export const NetHdrFlag = {
  NeedsCsum: 1,
  DataValid: 2,
  RscInfo: 4,
} as const;

export const NetGso = {
  None: 0,
  TcpV4: 1,
  Udp: 3,
  TcpV6: 4,
  UdpL4: 5,
  /** Or-ed into gso_type: the packet has the TCP ECN bit set. */
  Ecn: 0x80,
} as const;

/** The fields of a virtio-net header; a reusable object, filled by `readNetHeader`. */
export interface NetHeader {
  flags: number;
  gsoType: number;
  hdrLen: number;
  gsoSize: number;
  csumStart: number;
  csumOffset: number;
  numBuffers: number;
}

export function newNetHeader(): NetHeader {
  return { flags: 0, gsoType: NetGso.None, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0, numBuffers: 0 };
}

export function readNetHeader(view: DataView, at: number, out: NetHeader): NetHeader {
  out.flags = view.getUint8(at + NetHdrField.flags);
  out.gsoType = view.getUint8(at + NetHdrField.gsoType);
  out.hdrLen = view.getUint16(at + NetHdrField.hdrLen, true);
  out.gsoSize = view.getUint16(at + NetHdrField.gsoSize, true);
  out.csumStart = view.getUint16(at + NetHdrField.csumStart, true);
  out.csumOffset = view.getUint16(at + NetHdrField.csumOffset, true);
  out.numBuffers = view.getUint16(at + NetHdrField.numBuffers, true);
  return out;
}

export function writeNetHeader(view: DataView, at: number, h: NetHeader): void {
  view.setUint8(at + NetHdrField.flags, h.flags);
  view.setUint8(at + NetHdrField.gsoType, h.gsoType);
  view.setUint16(at + NetHdrField.hdrLen, h.hdrLen, true);
  view.setUint16(at + NetHdrField.gsoSize, h.gsoSize, true);
  view.setUint16(at + NetHdrField.csumStart, h.csumStart, true);
  view.setUint16(at + NetHdrField.csumOffset, h.csumOffset, true);
  view.setUint16(at + NetHdrField.numBuffers, h.numBuffers, true);
}

/** A header that asks for nothing (no offloads, one buffer): what a simple driver sends. */
export function writePlainNetHeader(view: DataView, at: number): void {
  for (let i = 0; i < NET_HDR_SIZE; i += 2) view.setUint16(at + i, 0, true);
}

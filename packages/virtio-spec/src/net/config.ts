/**
 * The virtio-net configuration space (virtio 1.2 §5.1.4):
 *
 *   u8 mac[6]; le16 status; le16 max_virtqueue_pairs; le16 mtu; le32 speed; u8 duplex;
 *   u8 rss_max_key_size; le16 rss_max_indirection_table_length; le32 supported_hash_types;
 */
export const NetConfigField = {
  mac: 0,
  status: 6,
  maxVirtqueuePairs: 8,
  mtu: 10,
  speed: 12,
  duplex: 16,
  rssMaxKeySize: 17,
  rssMaxIndirectionTableLength: 18,
  supportedHashTypes: 20,
} as const;

export const NET_CONFIG_SIZE = 24;
/** speed when unknown. */
export const NET_SPEED_UNKNOWN = 0xffff_ffff;
export const NetDuplex = { Half: 0, Full: 1, Unknown: 0xff } as const;

export interface NetConfig {
  mac: Uint8Array;
  status: number;
  maxVirtqueuePairs: number;
  mtu: number;
  speed: number;
  duplex: number;
}

export function encodeNetConfig(c: Partial<NetConfig> & { mac: Uint8Array }): Uint8Array {
  const bytes = new Uint8Array(NET_CONFIG_SIZE);
  const v = new DataView(bytes.buffer);
  bytes.set(c.mac.subarray(0, 6), NetConfigField.mac);
  v.setUint16(NetConfigField.status, c.status ?? 0, true);
  v.setUint16(NetConfigField.maxVirtqueuePairs, c.maxVirtqueuePairs ?? 1, true);
  v.setUint16(NetConfigField.mtu, c.mtu ?? 0, true);
  v.setUint32(NetConfigField.speed, c.speed ?? NET_SPEED_UNKNOWN, true);
  v.setUint8(NetConfigField.duplex, c.duplex ?? NetDuplex.Unknown);
  return bytes;
}

export function decodeNetConfig(bytes: Uint8Array): NetConfig {
  const b = new Uint8Array(NET_CONFIG_SIZE);
  b.set(bytes.subarray(0, NET_CONFIG_SIZE));
  const v = new DataView(b.buffer);
  return {
    mac: b.slice(0, 6),
    status: v.getUint16(NetConfigField.status, true),
    maxVirtqueuePairs: v.getUint16(NetConfigField.maxVirtqueuePairs, true),
    mtu: v.getUint16(NetConfigField.mtu, true),
    speed: v.getUint32(NetConfigField.speed, true),
    duplex: v.getUint8(NetConfigField.duplex),
  };
}

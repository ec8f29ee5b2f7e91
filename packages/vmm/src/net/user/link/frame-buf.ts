import type { Transport } from '@uk/net';

/** @uk/net's packet buffer, named through the transport seam (the VMM imports no other kernel package). */
export type NetBuf = Parameters<Transport['input']>[1];

/** Headroom for the link, IP and TCP headers a reply may put in front of data. */
export const HEADROOM = 14 + 20 + 60;

const NO_RELEASE = (): void => {};

/** A buffer on the host's heap: garbage collection takes it back, so release does nothing. */
export function hostBuf(length: number, headroom = HEADROOM): NetBuf {
  return { store: new Uint8Array(headroom + length), offset: headroom, length, next: null, phys: -1, release: NO_RELEASE };
}

/** A buffer holding a copy of `bytes`, with headroom. */
export function copyBuf(bytes: Uint8Array, headroom = HEADROOM): NetBuf {
  const b = hostBuf(bytes.length, headroom);
  b.store.set(bytes, headroom);
  return b;
}

/** The bytes of a buffer's window (one buffer, not its chain). */
export function windowOf(buf: NetBuf): Uint8Array {
  return buf.store.subarray(buf.offset, buf.offset + buf.length);
}

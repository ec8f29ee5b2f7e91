export interface Transfer {
  bytes: number;
  /** FNV-1a, 8 hex digits. */
  sum: string;
  ms: number;
}
export const FNV_OFFSET: number;
export function pattern(): Uint8Array;
export function fnv(h: number, b: Uint8Array): number;
export function hex(h: number): string;
export function within<T>(ms: number, what: string, p: Promise<T>): Promise<T>;
export function hostServer(address: string, port: number, role: 'sink' | 'source', n?: number): { listening: Promise<void>; result: Promise<Transfer>; close(): void };
export function hostClient(address: string, port: number, role: 'send' | 'recv', n?: number): Promise<Transfer>;

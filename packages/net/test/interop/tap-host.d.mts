export interface RunResult {
  status: number | null;
  stdout: string;
}
export interface TapLink {
  readonly ifname: string;
  readonly hostIp: string;
  readonly guestIp: string;
  /** The guest's address with its prefix: '10.213.x.2/24'. */
  readonly guestCidr: string;
  /** For the VMM's virtioNetDevice(): `udp=…,localaddr=…`. */
  readonly nicSpec: string;
  start(): Promise<void>;
  close(): void;
}
/** What this host lacks for a TAP device (empty: all there); `ping: true` asks for ping too. */
export function tapMissing(opts?: { ping?: boolean }): string[];
export function run(cmd: string, args: string[], timeoutMs?: number): { status: number | null; stdout: string; stderr: string };
export function runAsync(cmd: string, args: string[], timeoutMs?: number): Promise<RunResult>;
export function waitFor(cond: () => boolean, ms: number, what: string): Promise<void>;
export function reserveTap(tag: string): Promise<TapLink>;

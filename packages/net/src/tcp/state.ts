/** The connection states of RFC 9293 §3.3.2. */
export const TcpState = {
  Closed: 0,
  Listen: 1,
  SynSent: 2,
  SynReceived: 3,
  Established: 4,
  FinWait1: 5,
  FinWait2: 6,
  CloseWait: 7,
  Closing: 8,
  LastAck: 9,
  TimeWait: 10,
} as const;
export type TcpState = (typeof TcpState)[keyof typeof TcpState];

const NAMES = ['CLOSED', 'LISTEN', 'SYN-SENT', 'SYN-RECEIVED', 'ESTABLISHED', 'FIN-WAIT-1', 'FIN-WAIT-2', 'CLOSE-WAIT', 'CLOSING', 'LAST-ACK', 'TIME-WAIT'];

export function tcpStateName(s: TcpState): string {
  return NAMES[s];
}

/** States in which both sides have exchanged SYNs (RFC 9293's "synchronized states"). */
export function isSynchronized(s: TcpState): boolean {
  return s >= TcpState.SynReceived;
}

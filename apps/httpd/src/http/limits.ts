/**
 * What one client may cost the server. Each bound has a status or a closed connection for
 * whoever crosses it, so a slow or oversized client cannot hold more than its share.
 */
export interface HttpLimits {
  /** Bytes of a request line (method, target, version); longer: 414 URI Too Long. */
  readonly maxRequestLine: number;
  /** Bytes of the whole request head (request line and header fields); more: 431. */
  readonly maxHeaderBytes: number;
  /** Header fields in one request; more: 431. */
  readonly maxHeaders: number;
  /** A request body the server reads and throws away (GET with a body); larger: 413. */
  readonly maxDiscardBody: number;
  /** From a request's first byte to the end of its head (slowloris); then 408 and close. */
  readonly headerTimeoutMs: number;
  /** A kept-alive connection with no request for this long is closed. */
  readonly idleTimeoutMs: number;
  /** A client that reads none of a response for this long is dropped. */
  readonly sendTimeoutMs: number;
  /** Connections served at once; more are closed as they come. */
  readonly maxConnections: number;
  /** Requests on one connection before the server closes it (nginx's keepalive_requests). */
  readonly maxRequestsPerConnection: number;
}

export const DEFAULT_LIMITS: HttpLimits = {
  maxRequestLine: 8192,
  maxHeaderBytes: 16384,
  maxHeaders: 100,
  maxDiscardBody: 65536,
  headerTimeoutMs: 10_000,
  idleTimeoutMs: 30_000,
  sendTimeoutMs: 30_000,
  maxConnections: 2048,
  maxRequestsPerConnection: 100_000,
};

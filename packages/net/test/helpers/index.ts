// Test helpers of @uk/net, for this package's tests and for the TCP tests: see README.md here.
export { TestLink, LinkPort, mulberry32, type Impairments, type LinkOptions } from './link.js';
export { World, settle } from './world.js';
export { CaptureDevice } from './capture.js';
export * from './frames.js';
export { isKernelErrorLike } from './imports.js';
export { ScriptedDhcpServer, ScriptedDnsServer, type DhcpServerOptions, type DhcpLogEntry, type DnsAnswer } from './servers.js';

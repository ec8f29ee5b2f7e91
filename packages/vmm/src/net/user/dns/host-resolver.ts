
// Loaded on first use, not imported: a machine that never needs it never pays for loading it.
const dnsModule = () => process.getBuiltinModule('node:dns');

/** How the DNS forwarder looks names up on the host. */
export interface HostResolver {
  /**
   * IPv4 addresses of `name` (dotted quads). Rejects with an error whose `code` is ENOTFOUND
   * or ENODATA when the name does not exist (the guest gets NXDOMAIN), anything else for a
   * failure (SERVFAIL).
   */
  lookup4(name: string): Promise<string[]>;
}

/** The host's own resolver (getaddrinfo: /etc/hosts, then the system's DNS servers). */
export function systemResolver(): HostResolver {
  return {
    async lookup4(name: string): Promise<string[]> {
      const all = await dnsModule().promises.lookup(name, { family: 4, all: true });
      return all.map((a) => a.address);
    },
  };
}

/** A resolver from a table, for tests and for pinning names: `{ 'web.test': ['127.0.0.1'] }`. */
export function staticResolver(table: Readonly<Record<string, readonly string[]>>, fallback?: HostResolver): HostResolver {
  const lower = new Map(Object.entries(table).map(([k, v]) => [k.toLowerCase().replace(/\.$/, ''), [...v]]));
  return {
    async lookup4(name: string): Promise<string[]> {
      const hit = lower.get(name.toLowerCase().replace(/\.$/, ''));
      if (hit !== undefined) return hit;
      if (fallback !== undefined) return fallback.lookup4(name);
      throw Object.assign(new Error(`${name}: not found`), { code: 'ENOTFOUND' });
    },
  };
}

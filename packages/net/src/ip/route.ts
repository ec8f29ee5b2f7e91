import { type Ipv4Address, prefixMask } from './address.js';

/** One entry of the routing table. */
export interface Route {
  /** Network address (masked). */
  readonly dest: Ipv4Address;
  /** Prefix length 0..32; 0 is the default route. */
  readonly prefix: number;
  /** Next hop; 0 (IPV4_ANY) for a directly connected network. */
  readonly gateway: Ipv4Address;
  /** The interface to send on. */
  readonly ifindex: number;
  /** Lower wins among routes of equal prefix; default 0. */
  readonly metric: number;
  /** Who added it: 'static', 'connected', 'dhcp'; the owner removes its own on reconfiguration. */
  readonly origin: string;
}

/** Longest-prefix match over a short list: hosts have a handful of routes. */
export class RouteTable {
  #routes: Route[] = [];

  add(r: { dest: Ipv4Address; prefix: number; gateway?: Ipv4Address; ifindex: number; metric?: number; origin?: string }): Route {
    const prefix = Math.max(0, Math.min(32, Math.trunc(r.prefix)));
    const route: Route = {
      dest: (r.dest & prefixMask(prefix)) >>> 0,
      prefix,
      gateway: (r.gateway ?? 0) >>> 0,
      ifindex: r.ifindex,
      metric: r.metric ?? 0,
      origin: r.origin ?? 'static',
    };
    // Replace a route to the same network through the same interface and of the same origin.
    this.#routes = this.#routes.filter((x) => !(x.dest === route.dest && x.prefix === route.prefix && x.ifindex === route.ifindex && x.origin === route.origin));
    this.#routes.push(route);
    // Longest prefix first, then lowest metric: lookup takes the first that matches.
    this.#routes.sort((a, b) => b.prefix - a.prefix || a.metric - b.metric);
    return route;
  }

  /** Removes the routes `match` selects; returns how many. */
  remove(match: (r: Route) => boolean): number {
    const before = this.#routes.length;
    this.#routes = this.#routes.filter((r) => !match(r));
    return before - this.#routes.length;
  }

  lookup(dst: Ipv4Address, usable: (ifindex: number) => boolean = () => true): Route | undefined {
    for (const r of this.#routes) if (((dst & prefixMask(r.prefix)) >>> 0) === r.dest && usable(r.ifindex)) return r;
    return undefined;
  }

  list(): readonly Route[] {
    return this.#routes;
  }
}

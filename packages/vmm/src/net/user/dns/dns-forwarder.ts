import net from 'node:net';
import { dns, type Ipv4Address, parseIpv4 } from '@uk/net';
import type { HostResolver } from './host-resolver.js';

const { DnsRcode, DnsType, DNS_CLASS_IN, dnsLength, emitDns, isValidDnsName, parseDns } = dns;

/** Seconds the guest may keep an answer: short, since the host's own cache is behind it. */
const ANSWER_TTL = 60;
/** Answers at most (a host name with more addresses is cut; UDP DNS fits 512 bytes). */
const MAX_ANSWERS = 16;

export interface DnsForwarderStats {
  queries: number;
  answered: number;
  nxdomain: number;
  failed: number;
  /** Malformed, not a query, or over the in-flight bound. */
  dropped: number;
}

/**
 * The DNS server at 10.0.2.3: answers A questions from the host's resolver (so /etc/hosts
 * and the host's DNS settings apply), AAAA with no records (the guest speaks IPv4), and
 * anything else with NOTIMP. An answer naming the host's loopback becomes the gateway's
 * address, which stands for the loopback on this network. At most `inFlight` lookups at a
 * time; more questions are dropped and the guest asks again.
 */
export class DnsForwarder {
  readonly stats: DnsForwarderStats = { queries: 0, answered: 0, nxdomain: 0, failed: 0, dropped: 0 };
  #pending = 0;
  #closed = false;

  constructor(
    private readonly resolver: HostResolver,
    private readonly gateway: Ipv4Address,
    private readonly inFlight: number,
  ) {}

  /** A query from the guest; `reply` sends the answer back (not called when dropped). */
  query(message: Uint8Array, reply: (answer: Uint8Array) => void): void {
    const q = parseDns(message, 0, message.length);
    if (q === undefined || q.response || message.length < 12) {
      this.stats.dropped++;
      return;
    }
    this.stats.queries++;
    const base = { id: q.id, response: true, opcode: q.opcode, recursionDesired: q.recursionDesired, recursionAvailable: true, truncated: false };
    const answer = (rcode: number, questions: typeof q.questions, answers: dns.DnsRecord[] = []): void => {
      if (this.#closed) return;
      const m = { ...base, rcode, questions, answers };
      const out = new Uint8Array(dnsLength(m));
      emitDns(out, 0, m);
      reply(out);
    };
    const question = q.questions[0];
    if ((q.opcode ?? 0) !== 0 || q.questions.length !== 1 || question === undefined) {
      answer(q.opcode !== 0 ? DnsRcode.NotImp : DnsRcode.FormErr, []);
      return;
    }
    if (!isValidDnsName(question.name) || question.class !== DNS_CLASS_IN) {
      answer(DnsRcode.FormErr, []);
      return;
    }
    if (question.type === DnsType.AAAA) {
      answer(DnsRcode.NoError, [question]);
      return;
    }
    if (question.type !== DnsType.A) {
      answer(DnsRcode.NotImp, [question]);
      return;
    }
    if (this.#pending >= this.inFlight) {
      this.stats.dropped++;
      return;
    }
    this.#pending++;
    this.resolver
      .lookup4(question.name)
      .then(
        (addresses) => {
          const records = addresses
            .filter((a) => net.isIPv4(a))
            .slice(0, MAX_ANSWERS)
            .map((a) => ({ name: question.name, type: DnsType.A, class: DNS_CLASS_IN, ttl: ANSWER_TTL, address: this.#guestView(a) }));
          if (records.length === 0) {
            this.stats.nxdomain++;
            answer(DnsRcode.NxDomain, [question]);
            return;
          }
          this.stats.answered++;
          answer(DnsRcode.NoError, [question], records);
        },
        (e: { code?: string }) => {
          if (e?.code === 'ENOTFOUND' || e?.code === 'ENODATA' || e?.code === 'ENONAME') {
            this.stats.nxdomain++;
            answer(DnsRcode.NxDomain, [question]);
          } else {
            this.stats.failed++;
            answer(DnsRcode.ServFail, [question]);
          }
        },
      )
      .catch(() => {
        this.stats.failed++;
      })
      .finally(() => {
        this.#pending--;
      });
  }

  /** Questions waiting for the host. */
  get pending(): number {
    return this.#pending;
  }

  close(): void {
    this.#closed = true;
  }

  /** 127.x.x.x on the host is the gateway's address to the guest. */
  #guestView(a: string): Ipv4Address {
    const v = parseIpv4(a) as number;
    return v >>> 24 === 127 ? this.gateway : v;
  }
}

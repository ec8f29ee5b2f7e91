import { existsSync } from 'node:fs';
import type { SlotDevice, SlotEnv } from '../../machine/machine.js';
import type { FramePort } from '../../net/frame-port.js';
import { defaultMac, formatMac } from '../../net/mac.js';
import { CapturePort } from '../../net/pcap/capture-port.js';
import { PcapWriter } from '../../net/pcap/pcap-writer.js';
import { type NetSpec, NetSpecError, parseNetSpec } from '../../net/spec/net-spec.js';
import { NetSwitch } from '../../net/switch/learning-switch.js';
import { UdpPort } from '../../net/udp/udp-port.js';
import type { UserNetPort, userNetPort as UserNetPortFactory } from '../../net/user/user-port.js';
import { VirtioMmioModel } from '../mmio/device-model.js';
import { type NetBackendOptions, VirtioNetBackend } from './net-backend.js';

export interface VirtioNetDeviceOptions {
  /** Where protocol errors and link trouble are reported (default: the host's stderr). */
  readonly log?: (line: string) => void;
  /** Device options beyond the spec (queue size, backlog, features left out). */
  readonly device?: Omit<NetBackendOptions, 'mac' | 'mtu'>;
}

/** A virtio-net slot device, with its parts once attached (for statistics and tests). */
export interface VirtioNetSlotDevice extends SlotDevice {
  readonly spec: NetSpec;
  readonly backend: VirtioNetBackend | undefined;
  readonly model: VirtioMmioModel | undefined;
  /** The link end the device talks to (a UdpPort, a SwitchPort, or a CapturePort around one), while the machine runs. */
  readonly port: FramePort | undefined;
  /** The MAC the guest sees (known once attached, unless given in the spec). */
  readonly mac: Uint8Array | undefined;
  /** Rising edges of the device's interrupt line. */
  readonly interrupts: number;
  /**
   * Opens the host side now — binds the UDP socket, resolves its peer — so that a busy port
   * or an unknown host is a NetSpecError before boot rather than a line in the log after.
   */
  prepare(): Promise<void>;
}

/**
 * A virtio-net NIC for a machine slot. `spec` is the `--net` syntax (see parseNetSpec) or a
 * parsed NetSpec. Host resources are opened when the machine starts (or by `prepare`) and
 * released when it stops; a capture continues across the guest's reboots.
 */
export function virtioNetDevice(spec: string | NetSpec, options: VirtioNetDeviceOptions = {}): VirtioNetSlotDevice {
  const parsed = typeof spec === 'string' ? parseNetSpec(spec) : spec;
  const text = typeof spec === 'string' ? spec : describeSpec(parsed);
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  let backend: VirtioNetBackend | undefined;
  let model: VirtioMmioModel | undefined;
  let port: FramePort | undefined;
  let prepared: UdpPort | undefined;
  let preparedUser: UserNetPort | undefined;
  // The user-mode network's engine, loaded by prepare(): a machine without one never loads it.
  let userNetPort: typeof UserNetPortFactory | undefined;
  let mac = parsed.mac;
  let interrupts = 0;
  let captured = false;

  const openLink = (): FramePort => {
    const link = parsed.link;
    if (link.kind === 'user') {
      // The user backend (NAT, DHCP, DNS, hostfwd): packages/vmm/src/net/user.
      if (preparedUser === undefined && userNetPort === undefined) throw new Error(`virtio-net --net ${text}: prepare() the device before the machine attaches it`);
      const p = preparedUser ?? (userNetPort as typeof UserNetPortFactory)({ ...link.options, log: link.options.log ?? log, nicBacklog: () => backend?.waiting ?? 0 });
      preparedUser = undefined;
      p.ready.catch((e: Error) => log(`uk: --net ${text}: ${e.message}`));
      return p;
    }
    if (link.kind === 'udp') {
      const p = prepared ?? new UdpPort({ remote: link.remote, local: link.local, log });
      prepared = undefined;
      p.ready.catch((e: Error) => log(`uk: --net ${text}: ${e.message}`));
      return p;
    }
    return NetSwitch.named(link.name).attach({ ...link.impairment, label: `virtio-net ${mac ? formatMac(mac) : ''}`.trim() });
  };

  return {
    name: 'virtio-net',
    spec: parsed,
    get backend() {
      return backend;
    },
    get model() {
      return model;
    },
    get port() {
      return port;
    },
    get mac() {
      return mac;
    },
    get interrupts() {
      return interrupts;
    },
    async prepare() {
      const link = parsed.link;
      if (parsed.pcap !== undefined) {
        const dir = parsed.pcap.includes('/') ? parsed.pcap.slice(0, parsed.pcap.lastIndexOf('/')) || '/' : '.';
        if (!existsSync(dir)) throw new NetSpecError(text, `--net ${text}: cannot write the capture: directory ${dir} does not exist`);
      }
      if (link.kind === 'user' && preparedUser === undefined) {
        userNetPort ??= (await import('../../net/user/user-port.js')).userNetPort;
        const p = userNetPort({ ...link.options, log: link.options.log ?? log, nicBacklog: () => backend?.waiting ?? 0 });
        try {
          await p.ready;
        } catch (e) {
          await p.close();
          throw new NetSpecError(text, `--net ${text}: ${(e as Error).message}`);
        }
        preparedUser = p;
      }
      if (link.kind !== 'udp' || prepared !== undefined) return;
      const p = new UdpPort({ remote: link.remote, local: link.local, log });
      try {
        await p.ready;
      } catch (e) {
        await p.close();
        throw new NetSpecError(text, `--net ${text}: ${(e as Error).message}`);
      }
      prepared = p;
    },
    attach(env: SlotEnv) {
      mac ??= defaultMac(env.slot);
      let p = openLink();
      if (parsed.pcap !== undefined) {
        p = new CapturePort(p, new PcapWriter(parsed.pcap, captured));
        captured = true;
      }
      port = p;
      backend = new VirtioNetBackend(p, { ...options.device, mac, mtu: parsed.mtu });
      let level = false;
      const irq = {
        set(l: boolean) {
          if (l && !level) interrupts++;
          level = l;
          env.irq.set(l);
        },
      };
      model = new VirtioMmioModel(backend, { ram: env.ram, irq, log, label: `virtio-net on slot ${env.slot} (${formatMac(mac)}, ${p.label})` });
      return model;
    },
    async close() {
      // The backend and model stay readable (statistics after a run); the link closes.
      const p = port;
      port = undefined;
      if (p !== undefined) await p.close();
    },
  };
}

/**
 * The NICs of `uk run --net A --net B ...`: one virtio-net device per spec, in order (so the
 * guest sees them as eth0, eth1, ... when they take consecutive slots). Throws NetSpecError
 * for the first spec that cannot be used.
 */
export function netDevicesFromSpecs(specs: readonly string[], options: VirtioNetDeviceOptions = {}): VirtioNetSlotDevice[] {
  return specs.map((s) => virtioNetDevice(s, options));
}

function describeSpec(s: NetSpec): string {
  const l = s.link;
  const base = l.kind === 'udp' ? `udp=${l.remote.host}:${l.remote.port}` : l.kind === 'user' ? 'user' : `switch=${l.name}`;
  return `${base}${s.mac ? `,mac=${formatMac(s.mac)}` : ''}${s.pcap ? `,pcap=${s.pcap}` : ''}`;
}

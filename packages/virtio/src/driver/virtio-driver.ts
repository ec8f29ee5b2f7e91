import { type FdtNode, interrupts, reg } from '@uk/fdt';
import { type Component, InitLevel, type KernelContext, KernelError, type ServiceKey, Services } from '@uk/hal';
import { deviceIdName, MMIO_MAGIC, MMIO_VERSION } from '@uk/virtio-spec';
import { type VirtioEnv, VirtioMmioDevice } from '../device/virtio-device.js';
import { MmioTransport } from '../mmio/transport.js';

/** The device-tree `compatible` of a virtio-mmio slot. */
export const VIRTIO_MMIO_COMPATIBLE = 'virtio,mmio';

/** A virtio driver as a package declares it; `virtioDriver` turns it into a component. */
export interface VirtioDriverSpec {
  /** The component's name and the name nodes are claimed under (e.g. "virtio-blk"). */
  readonly name: string;
  /** The virtio device ID this driver drives (DeviceId.Block, ...). */
  readonly deviceId: number;
  /** The package, for the image manifest. */
  readonly package?: string;
  /** Services the driver uses beyond irq and dma. */
  readonly requires?: readonly ServiceKey<unknown>[];
  readonly provides?: readonly ServiceKey<unknown>[];
  /** Sets up one device; called for each matching node, in address (slot) order. */
  probe(device: VirtioMmioDevice, ctx: KernelContext): void | Promise<void>;
}

/** A virtio-mmio node found in the device tree, with what its registers say. */
export interface VirtioSlot {
  readonly node: FdtNode;
  readonly base: number;
  readonly irqLine: number;
  readonly transport: MmioTransport;
  readonly deviceId: number;
  readonly version: number;
}

/**
 * The unclaimed virtio-mmio nodes whose registers answer with the virtio magic, in address
 * order, with their device IDs. A slot with device ID 0 is empty.
 */
export function virtioSlots(ctx: KernelContext): VirtioSlot[] {
  const out: VirtioSlot[] = [];
  for (const node of ctx.unclaimed(VIRTIO_MMIO_COMPATIBLE)) {
    const [r] = reg(node);
    if (r === undefined) continue;
    const transport = new MmioTransport(ctx.cpu.mmio, r.address);
    if (transport.magic !== MMIO_MAGIC) continue;
    const [spec] = interrupts(ctx.fdt, node);
    out.push({ node, base: r.address, irqLine: spec?.[0] ?? 0, transport, deviceId: transport.deviceId, version: transport.version });
  }
  return out.sort((a, b) => a.base - b.base);
}

/**
 * Makes a component of a virtio driver: at InitLevel.Drivers it claims every unclaimed
 * virtio-mmio node whose DeviceID is `spec.deviceId` and calls `probe` for it. Nodes of other
 * device types stay unclaimed for other drivers; empty slots (DeviceID 0) are left alone.
 */
export function virtioDriver(spec: VirtioDriverSpec): Component {
  return {
    name: spec.name,
    level: InitLevel.Drivers,
    package: spec.package ?? '@uk/virtio',
    requires: [Services.irq, Services.dma, ...(spec.requires ?? [])],
    provides: spec.provides,
    async init(ctx) {
      const env: VirtioEnv = { cpu: ctx.cpu, dma: ctx.get(Services.dma), irq: ctx.get(Services.irq) };
      for (const slot of virtioSlots(ctx)) {
        if (slot.deviceId !== spec.deviceId) continue;
        if (slot.version !== MMIO_VERSION) {
          ctx.console.write(`${spec.name}: ${slot.node.path} is a legacy virtio-mmio device (version ${slot.version}); only version 2 is supported\n`);
          continue;
        }
        if (slot.irqLine === 0) throw new KernelError('ENODEV', `${slot.node.path} has no interrupts property; a ${deviceIdName(spec.deviceId)} device needs its line`);
        ctx.claim(slot.node, spec.name);
        await spec.probe(new VirtioMmioDevice(env, slot.transport, slot.irqLine, slot.node), ctx);
      }
    },
  };
}

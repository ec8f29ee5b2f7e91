import { bufFrom, flatten, type NetBuf, payload } from '@uk/netdev';
import { describe, expect, it } from 'vitest';
import { MmioTransport, VirtioMmioDevice } from '../../virtio/src/index.js';
import { fakeMachine, SLOT_BASE } from '../../virtio/test/fake-machine.js';
import { type NetBackendOptions, NetSwitch, type VirtioNetSlotDevice, virtioNetDevice } from '../../vmm/src/index.js';
import { VirtioNetDevice, type VirtioNetOptions } from '../src/index.js';
import { frameSeq, testFrame, udpChecksumOk, udpFrame } from './frames.js';

const HOST_MAC = Uint8Array.of(0x02, 0, 0, 0, 0, 0x99);
let switches = 0;

/**
 * A virtio-net driver on a fake machine whose slot 0 holds the VMM's virtio-net device on a
 * fresh switch, with a host endpoint on the same switch that records what it receives.
 */
async function nic(opts: { spec?: string; device?: Omit<NetBackendOptions, 'mac' | 'mtu'>; driver?: VirtioNetOptions; ram?: number } = {}) {
  const name = `drv-${process.pid}-${switches++}`;
  const slot: VirtioNetSlotDevice = virtioNetDevice(`switch=${name}${opts.spec ?? ''}`, { log: () => {}, device: opts.device });
  const m = fakeMachine([slot], opts.ram ?? 32 << 20);
  const host = NetSwitch.named(name).attach({ label: 'host' });
  const seen: Uint8Array[] = [];
  host.setReceiver((f) => seen.push(f.slice()));
  const dev = new VirtioMmioDevice({ cpu: m.cpu, dma: m.dma, irq: m.irq }, new MmioTransport(m.cpu.mmio, SLOT_BASE), 1);
  const net = await VirtioNetDevice.start(dev, { name: 'eth0', ...opts.driver });
  const got: NetBuf[] = [];
  net.setReceiver((f) => got.push(f));
  // The host learns the guest's address from a first frame, like any switch.
  return { m, net, slot, host, seen, got, backend: () => slot.backend as NonNullable<typeof slot.backend> };
}

function sendFromGuest(net: VirtioNetDevice, frames: Uint8Array[]): number {
  const bufs = frames.map((f) => {
    const b = net.allocTx(f.length) as NetBuf;
    payload(b).set(f);
    return b;
  });
  return net.transmit(bufs);
}

describe('VirtioNetDevice', () => {
  it('takes MAC, MTU, link state and offloads from the device', async () => {
    const { net } = await nic();
    expect([...net.mac]).toEqual([0x52, 0x54, 0, 0x12, 0x34, 0x56]);
    expect(net.mtu).toBe(1500);
    expect(net.linkUp).toBe(true);
    expect(net.offloads).toEqual({ txChecksum: true, rxChecksumVerified: true });
    expect(net.describe()).toBe('52:54:00:12:34:56, mtu 1500, link up, queues 256/256, csum guest-csum mrg-rxbuf event-idx');
    // Receive buffers are posted ahead: the whole ring.
    expect(net.rx.posted).toBe(256);
  });

  it('makes up a locally administered MAC when the device has none, and honours mac=', async () => {
    const a = await nic({ device: { without: { mac: true } } });
    expect(a.net.mac[0] & 0x03).toBe(0x02);
    const b = await nic({ spec: ',mac=52:54:00:aa:bb:cc' });
    expect([...b.net.mac]).toEqual([0x52, 0x54, 0, 0xaa, 0xbb, 0xcc]);
  });

  it('sends a batch as it was given, with one notification', async () => {
    const { net, m, seen, backend } = await nic();
    const frames = Array.from({ length: 40 }, (_, i) => testFrame(HOST_MAC, net.mac, i, 60 + i * 37));
    await m.settle();
    // The one notification so far told the device of the receive buffers.
    expect(net.stats.notifications).toBe(1);
    const before = backend().stats.txNotifies;
    expect(sendFromGuest(net, frames)).toBe(40);
    await m.settle();
    expect(seen.length).toBe(40);
    seen.forEach((f, i) => expect(Buffer.compare(f, frames[i])).toBe(0));
    expect(net.stats).toMatchObject({ txPackets: 40, txBytes: frames.reduce((s, f) => s + f.length, 0), notifications: 2 });
    expect(backend().stats.txNotifies - before).toBe(1);
    expect(net.driverStats.txCopied).toBe(0);
  });

  it('copies heap buffers and chains into DMA buffers, and drops frames of impossible size', async () => {
    const { net, m, seen } = await nic();
    const a = testFrame(HOST_MAC, net.mac, 1, 100);
    const b = testFrame(HOST_MAC, net.mac, 2, 300);
    const chained = bufFrom(b.subarray(0, 50));
    chained.next = bufFrom(b.subarray(50));
    const tooBig = bufFrom(new Uint8Array(1600));
    const tooSmall = bufFrom(new Uint8Array(10));
    expect(net.transmit([bufFrom(a), chained, tooBig, tooSmall])).toBe(4);
    await m.settle();
    expect(seen.map((f) => [...f])).toEqual([[...a], [...b]]);
    expect(net.driverStats.txCopied).toBe(2);
    expect(net.stats.txDropped).toBe(2);
  });

  it('lends received frames as views of the DMA buffers and posts them again on release', async () => {
    const { net, m, host, got } = await nic();
    const frames = Array.from({ length: 10 }, (_, i) => testFrame(net.mac, HOST_MAC, i, 64 + i));
    for (const f of frames) host.send(f);
    await m.settle();
    expect(got.length).toBe(10);
    got.forEach((b, i) => {
      expect(b.phys).toBeGreaterThanOrEqual(0);
      expect(b.store.buffer).toBe(m.cpu.ram.bytes.buffer);
      expect(Buffer.compare(payload(b), frames[i])).toBe(0);
    });
    // The ring stays full from the spare buffers while the receiver holds ten.
    expect([net.rx.posted, net.rx.lent, net.rx.freeCount]).toEqual([256, 10, 256 - 10]);
    for (const b of got.splice(0)) b.release();
    await m.settle();
    expect([net.rx.posted, net.rx.lent, net.rx.freeCount]).toEqual([256, 0, 256]);
    expect(net.stats).toMatchObject({ rxPackets: 10, rxBytes: frames.reduce((s, f) => s + f.length, 0) });
  });

  it('refuses a buffer released twice', async () => {
    const { net, m, host, got } = await nic();
    host.send(testFrame(net.mac, HOST_MAC, 1, 64));
    await m.settle();
    const b = got[0];
    b.release();
    expect(() => b.release()).toThrow(/released twice/);
  });

  it('polls with interrupts off under load and takes interrupts again when idle (NAPI)', async () => {
    const { net, m, host, slot } = await nic({ driver: { budget: 16, busyPollNs: 0 } });
    const got: number[] = [];
    net.setReceiver((f) => {
      got.push(frameSeq(payload(f)));
      f.release();
    });
    // A burst far larger than the budget arrives at once.
    for (let i = 0; i < 200; i++) host.send(testFrame(net.mac, HOST_MAC, i, 64));
    await m.settle();
    expect(got).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(net.stats.interrupts).toBe(1);
    expect(slot.interrupts).toBe(1);
    expect(net.driverStats.yields).toBeGreaterThanOrEqual(200 / 16 - 1);
    // Idle again: the next frame raises an interrupt of its own.
    host.send(testFrame(net.mac, HOST_MAC, 999, 64));
    await m.settle();
    expect(got.length).toBe(201);
    expect(net.stats.interrupts).toBe(2);
  });

  it('keeps polling a while after the queue runs empty, so closely following frames need no interrupt', async () => {
    const { net, m, host, got } = await nic({ driver: { busyPollNs: 300e6 } });
    host.send(testFrame(net.mac, HOST_MAC, 1, 64));
    await m.settle();
    host.send(testFrame(net.mac, HOST_MAC, 2, 64));
    await m.settle();
    expect(got.length).toBe(2);
    expect(net.stats.interrupts).toBe(1);
    // Past the busy-poll time the driver takes interrupts again.
    await new Promise((r) => setTimeout(r, 400));
    await m.settle();
    host.send(testFrame(net.mac, HOST_MAC, 3, 64));
    await m.settle();
    expect(got.length).toBe(3);
    expect(net.stats.interrupts).toBe(2);
  });

  it('stops taking frames when the ring is full and says when there is room again', async () => {
    const { net, m, seen } = await nic();
    const frames = Array.from({ length: 300 }, (_, i) => testFrame(HOST_MAC, net.mac, i, 64));
    let ready = 0;
    net.onTxReady(() => ready++);
    // One turn: nothing has reached the device yet, so the ring (256) fills.
    const first = frames.map((f) => bufFrom(f));
    const n = net.transmit(first);
    expect(n).toBe(256);
    await m.settle();
    expect(ready).toBe(1);
    expect(net.transmit(first.slice(n))).toBe(44);
    await m.settle();
    expect(seen.map(frameSeq)).toEqual(frames.map((_, i) => i));
  });

  it('gives allocTx back-pressure and reuses buffers the device has sent', async () => {
    const { net, m } = await nic({ driver: { queueSize: 8 } });
    const held: NetBuf[] = [];
    for (;;) {
      const b = net.allocTx(64);
      if (b === null) break;
      held.push(b);
    }
    expect(held.length).toBe(8);
    let ready = 0;
    net.onTxReady(() => ready++);
    held.forEach((b, i) => payload(b).set(testFrame(HOST_MAC, net.mac, i, 64)));
    expect(net.transmit(held)).toBe(8);
    await m.settle();
    expect(ready).toBe(1);
    expect(net.allocTx(64)).not.toBeNull();
    expect(() => net.allocTx(4000)).toThrow(/EMSGSIZE/);
  });

  it('leaves partial checksums to the device when it offers CSUM, and finishes them itself when not', async () => {
    for (const csum of [true, false]) {
      const { net, m, seen } = await nic({ device: { without: { csum: !csum } } });
      expect(net.offloads.txChecksum).toBe(csum);
      const f = udpFrame(HOST_MAC, net.mac, new TextEncoder().encode('partial checksum!'), { partial: true });
      const b = net.allocTx(f.length) as NetBuf;
      payload(b).set(f);
      b.csumStart = 34;
      b.csumOffset = 6;
      net.transmit([b]);
      await m.settle();
      expect(seen.length).toBe(1);
      expect(udpChecksumOk(seen[0])).toBe(true);
    }
  });

  it('delivers only frames whose checksum is right when it promises verified checksums', async () => {
    const { net, m, host, got, backend } = await nic();
    host.send(udpFrame(net.mac, HOST_MAC, Uint8Array.of(1, 2, 3, 4)));
    host.send(udpFrame(net.mac, HOST_MAC, Uint8Array.of(5, 6, 7, 8), { corrupt: true }));
    await m.settle();
    expect(got.length).toBe(1);
    expect(backend().stats.csumVerified).toBe(1);
    expect(net.stats.rxErrors).toBe(1);
    expect(net.driverStats.rxBadChecksum).toBe(1);
    // Without GUEST_CSUM the stack checks, so the driver passes everything on.
    const plain = await nic({ device: { without: { guestCsum: true } } });
    expect(plain.net.offloads.rxChecksumVerified).toBe(false);
    plain.host.send(udpFrame(plain.net.mac, HOST_MAC, Uint8Array.of(5, 6, 7, 8), { corrupt: true }));
    await plain.m.settle();
    expect(plain.got.length).toBe(1);
  });

  it('receives jumbo frames across mergeable buffers as a chain, or in one big buffer without MRG_RXBUF', async () => {
    for (const mrg of [true, false]) {
      const { net, m, host, got, seen } = await nic({ spec: ',mtu=9000', device: { without: { mrgRxbuf: !mrg } } });
      expect(net.mtu).toBe(9000);
      const big = testFrame(net.mac, HOST_MAC, 7, 9014);
      host.send(big);
      host.send(testFrame(net.mac, HOST_MAC, 8, 100));
      await m.settle();
      expect(got.length).toBe(2);
      expect(got[0].next !== null).toBe(mrg);
      expect(Buffer.compare(flatten(got[0]), big)).toBe(0);
      expect(frameSeq(payload(got[1]))).toBe(8);
      for (const b of got) b.release();
      const out = testFrame(HOST_MAC, net.mac, 9, 9014);
      expect(sendFromGuest(net, [out])).toBe(1);
      await m.settle();
      expect(Buffer.compare(seen[0], out)).toBe(0);
    }
  });

  it('keeps receiving when the receiver holds more buffers than the ring has, by lending copies', async () => {
    const { net, m, host, got, backend } = await nic({ driver: { queueSize: 16, extraRxBuffers: 8 } });
    for (let i = 0; i < 60; i++) {
      host.send(testFrame(net.mac, HOST_MAC, i, 80));
      if (i % 8 === 7) await m.settle();
    }
    await m.settle();
    expect(got.map((b) => frameSeq(payload(b)))).toEqual(Array.from({ length: 60 }, (_, i) => i));
    expect(net.driverStats.rxCopied).toBeGreaterThan(0);
    expect(backend().stats.rxDropped).toBe(0);
    expect(got.filter((b) => b.phys < 0).length).toBe(net.driverStats.rxCopied);
  });

  it('hears the link go down and up', async () => {
    const { net, m, backend } = await nic();
    const changes: boolean[] = [];
    net.onLinkChange((up) => changes.push(up));
    backend().setLink(false);
    await m.settle();
    expect(net.linkUp).toBe(false);
    backend().setLink(true);
    await m.settle();
    expect(changes).toEqual([false, true]);
    expect(net.driverStats.configInterrupts).toBe(2);
  });

  it('resets the device after DEVICE_NEEDS_RESET and carries on', async () => {
    const { net, m, host, got, seen, slot } = await nic();
    host.send(testFrame(net.mac, HOST_MAC, 1, 64));
    await m.settle();
    slot.model?.fault('a test says so');
    await m.settle();
    expect(net.driverStats.resets).toBe(1);
    host.send(testFrame(net.mac, HOST_MAC, 2, 64));
    expect(sendFromGuest(net, [testFrame(HOST_MAC, net.mac, 3, 64)])).toBe(1);
    await m.settle();
    expect(got.map((b) => frameSeq(payload(b)))).toEqual([1, 2]);
    expect(seen.map(frameSeq)).toEqual([3]);
    // The buffer lent before the reset is still good and goes back on the ring.
    got[0].release();
    await m.settle();
    expect(net.rx.lent).toBe(1);
  });
});

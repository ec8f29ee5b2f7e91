import {
  BLK_DISCARD_SEGMENT_SIZE,
  BLK_ID_BYTES,
  BLK_REQ_HEADER_SIZE,
  BLK_WRITE_ZEROES_F_UNMAP,
  blkDiscardFlags,
  blkDiscardNumSectors,
  blkDiscardSector,
  BlkFeature,
  blkRequestSector,
  blkRequestType,
  BlkRequestType,
  BlkStatus,
  DeviceId,
  encodeBlkConfig,
  featureBits,
  SECTOR_SIZE,
} from '@uk/virtio-spec';
import type { VirtioBackend, VirtioDeviceHandle } from '../mmio/backend.js';
import type { DescriptorChain } from '../queue/chain.js';
import type { DeviceQueue } from '../queue/device-queue.js';
import { VirtioFault } from '../queue/fault.js';
import type { ImageFile } from './image-file.js';

/** The most sectors one DISCARD or WRITE_ZEROES range may cover (4 GiB - 512). */
const MAX_RANGE_SECTORS = 0x7f_ffff;

/** One request in flight, kept per head and reused. */
class BlkRequest {
  head = 0;
  epoch = 0;
  statusOff = 0;
  /** Bytes the device writes into the writable part when it succeeds (data + status). */
  written = 1;
  op = '';
  sector = 0;
  /** Host I/O is running for it. */
  busy = false;
  readonly done: (err: NodeJS.ErrnoException | null) => void;

  constructor(backend: VirtioBlkBackend) {
    this.done = (err) => backend.finished(this, err);
  }
}

export interface BlkBackendOptions {
  readonly readOnly: boolean;
  readonly serial?: string;
  /** Entries of the request queue (default 256, as QEMU). */
  readonly queueSize?: number;
}

/**
 * The virtio-blk device (virtio 1.2 §5.2) over a raw image file. Reads and writes go straight
 * between guest RAM and the file with preadv / pwritev, asynchronously: a request completes,
 * and the interrupt is raised, when the host's I/O finishes. FLUSH is fdatasync. A read-only
 * disk offers VIRTIO_BLK_F_RO and answers writes with IOERR. DISCARD is accepted and does
 * nothing (the spec lets a device ignore it); WRITE_ZEROES writes zeroes.
 */
export class VirtioBlkBackend implements VirtioBackend {
  readonly name = 'virtio-blk';
  readonly deviceId = DeviceId.Block;
  readonly features: bigint;
  readonly queueSizes: readonly number[];
  readonly config: Uint8Array;
  /** 512-byte sectors. */
  readonly capacity: number;
  private device!: VirtioDeviceHandle;
  private readonly requests: Array<BlkRequest | undefined>;
  private readonly header = new Uint8Array(BLK_REQ_HEADER_SIZE);
  private readonly headerView = new DataView(this.header.buffer);
  private readonly segment = new Uint8Array(BLK_DISCARD_SEGMENT_SIZE);
  private readonly segmentView = new DataView(this.segment.buffer);
  private readonly serial: Uint8Array;
  private inFlight = 0;
  private drained: Array<() => void> = [];
  readonly stats = { requests: 0, reads: 0, writes: 0, flushes: 0, errors: 0 };

  constructor(
    readonly file: ImageFile,
    options: BlkBackendOptions,
  ) {
    const qsize = options.queueSize ?? 256;
    this.queueSizes = [qsize];
    this.capacity = Math.floor(file.size / SECTOR_SIZE);
    this.features = featureBits(
      BlkFeature.SegMax,
      BlkFeature.BlkSize,
      BlkFeature.Flush,
      BlkFeature.Discard,
      BlkFeature.WriteZeroes,
      ...(options.readOnly ? [BlkFeature.Ro] : []),
    );
    this.config = encodeBlkConfig({
      capacity: this.capacity,
      segMax: qsize - 2,
      blkSize: SECTOR_SIZE,
      maxDiscardSectors: MAX_RANGE_SECTORS,
      maxDiscardSeg: 1,
      discardSectorAlignment: 1,
      maxWriteZeroesSectors: MAX_RANGE_SECTORS,
      maxWriteZeroesSeg: 1,
      writeZeroesMayUnmap: 0,
    });
    this.requests = new Array(qsize).fill(undefined);
    this.serial = new TextEncoder().encode(options.serial ?? '').subarray(0, BLK_ID_BYTES);
  }

  bind(device: VirtioDeviceHandle): void {
    this.device = device;
  }

  get readOnly(): boolean {
    return this.file.readOnly;
  }

  /** Requests handed to the host and not finished. */
  get pending(): number {
    return this.inFlight;
  }

  notify(index: number, queue: DeviceQueue): void {
    if (index !== 0) return;
    const chain = this.device.newChain(0);
    do {
      queue.disableNotifications();
      while (queue.pop(chain)) this.start(chain);
    } while (queue.enableNotifications());
  }

  private start(chain: DescriptorChain): void {
    if (chain.readableBytes < BLK_REQ_HEADER_SIZE || chain.writableBytes < 1) {
      throw new VirtioFault(`request ${chain.head} lacks a ${BLK_REQ_HEADER_SIZE}-byte header or a status byte`);
    }
    const ram = this.device.memory.bytes;
    chain.gather(ram, 0, this.header);
    const type = blkRequestType(this.headerView, 0);
    const sector = blkRequestSector(this.headerView, 0);
    let req = this.requests[chain.head];
    // A request of an older epoch may still be on the host with this head: never share it.
    if (req === undefined || req.busy) {
      req = new BlkRequest(this);
      this.requests[chain.head] = req;
    }
    req.head = chain.head;
    req.epoch = this.device.epoch;
    req.statusOff = chain.writableOffset(chain.writableBytes - 1);
    req.written = 1;
    req.sector = sector;
    this.stats.requests++;

    switch (type) {
      case BlkRequestType.In: {
        const n = chain.writableBytes - 1;
        req.op = 'read';
        if (!this.inRange(sector, n)) return this.answer(req, BlkStatus.IoErr);
        req.written = n + 1;
        this.stats.reads++;
        this.begin(req);
        this.file.readFully(chain.views(ram, true, 0, n), sector * SECTOR_SIZE, req.done);
        return;
      }
      case BlkRequestType.Out: {
        const n = chain.readableBytes - BLK_REQ_HEADER_SIZE;
        req.op = 'write';
        if (this.readOnly || !this.inRange(sector, n)) return this.answer(req, BlkStatus.IoErr);
        this.stats.writes++;
        this.begin(req);
        this.file.writeFully(chain.views(ram, false, BLK_REQ_HEADER_SIZE, n), sector * SECTOR_SIZE, req.done);
        return;
      }
      case BlkRequestType.Flush:
        req.op = 'flush';
        this.stats.flushes++;
        this.begin(req);
        this.file.sync(req.done);
        return;
      case BlkRequestType.GetId: {
        const n = Math.min(BLK_ID_BYTES, chain.writableBytes - 1);
        req.op = 'get-id';
        const id = new Uint8Array(n);
        id.set(this.serial.subarray(0, n));
        let at = 0;
        for (const v of chain.views(ram, true, 0, n)) {
          v.set(id.subarray(at, at + v.length));
          at += v.length;
        }
        req.written = n + 1;
        return this.answer(req, BlkStatus.Ok);
      }
      case BlkRequestType.Discard:
      case BlkRequestType.WriteZeroes:
        return this.range(req, chain, type);
      default:
        req.op = `type ${type}`;
        return this.answer(req, BlkStatus.Unsupp);
    }
  }

  /** DISCARD and WRITE_ZEROES: one range of {sector, num_sectors, flags} after the header. */
  private range(req: BlkRequest, chain: DescriptorChain, type: number): void {
    const zeroes = type === BlkRequestType.WriteZeroes;
    req.op = zeroes ? 'write-zeroes' : 'discard';
    const bytes = chain.readableBytes - BLK_REQ_HEADER_SIZE;
    // One segment is all this device advertises (max_*_seg = 1).
    if (bytes !== BLK_DISCARD_SEGMENT_SIZE) return this.answer(req, BlkStatus.Unsupp);
    chain.gather(this.device.memory.bytes, BLK_REQ_HEADER_SIZE, this.segment);
    const sector = blkDiscardSector(this.segmentView, 0);
    const count = blkDiscardNumSectors(this.segmentView, 0);
    const flags = blkDiscardFlags(this.segmentView, 0);
    req.sector = sector;
    if (flags & ~(zeroes ? BLK_WRITE_ZEROES_F_UNMAP : 0)) return this.answer(req, BlkStatus.Unsupp);
    if (this.readOnly || count > MAX_RANGE_SECTORS || !this.inRange(sector, count * SECTOR_SIZE)) return this.answer(req, BlkStatus.IoErr);
    if (!zeroes) return this.answer(req, BlkStatus.Ok);
    this.begin(req);
    this.file.writeZeroes(sector * SECTOR_SIZE, count * SECTOR_SIZE, req.done);
  }

  private inRange(sector: number, bytes: number): boolean {
    return bytes % SECTOR_SIZE === 0 && Number.isSafeInteger(sector) && sector + bytes / SECTOR_SIZE <= this.capacity;
  }

  private begin(req: BlkRequest): void {
    req.busy = true;
    this.inFlight++;
  }

  /** @internal The host finished a request's I/O. */
  finished(req: BlkRequest, err: NodeJS.ErrnoException | null): void {
    req.busy = false;
    this.inFlight--;
    if (err !== null) {
      if (req.epoch === this.device.epoch) this.device.log(`${req.op} at sector ${req.sector} failed on the host: ${err.message}`);
      this.answer(req, BlkStatus.IoErr);
    } else this.answer(req, BlkStatus.Ok);
    if (this.inFlight === 0 && this.drained.length > 0) for (const w of this.drained.splice(0)) w();
  }

  /** Writes the status byte and returns the request, unless the device was reset meanwhile. */
  private answer(req: BlkRequest, status: number): void {
    if (req.epoch !== this.device.epoch) return;
    if (status !== BlkStatus.Ok) this.stats.errors++;
    this.device.memory.bytes[req.statusOff] = status;
    this.device.complete(0, req.head, status === BlkStatus.Ok ? req.written : 1, req.epoch);
  }

  reset(): void | Promise<void> {
    return this.idle();
  }

  /** Resolves when no host I/O is in flight. */
  idle(): void | Promise<void> {
    if (this.inFlight === 0) return;
    return new Promise((resolve) => this.drained.push(resolve));
  }
}

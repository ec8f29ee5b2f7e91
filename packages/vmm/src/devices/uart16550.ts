import type { MmioDevice } from '../bus/device.js';
import type { IrqLine } from './plic.js';

const RBR_THR_DLL = 0;
const IER_DLM = 1;
const IIR_FCR = 2;
const LCR = 3;
const MCR = 4;
const LSR = 5;
const MSR = 6;
const SCR = 7;

const IER_RDA = 0x01;
const IER_THRE = 0x02;
const LCR_DLAB = 0x80;
const MCR_LOOP = 0x10;
const LSR_DR = 0x01;
const LSR_OE = 0x02;
const LSR_THRE = 0x20;
const LSR_TEMT = 0x40;
const IIR_NONE = 0x01;
const IIR_THRE = 0x02;
const IIR_RDA = 0x04;
const IIR_FIFO = 0xc0;
const FCR_ENABLE = 0x01;
const FCR_CLEAR_RX = 0x02;

const RX_FIFO = 16;

/**
 * An ns16550a UART. Transmission is instantaneous (THR is always empty again at once), so a
 * driver can fill the 16-byte FIFO after one look at LSR; received bytes queue in a FIFO and
 * raise the data-available interrupt.
 */
export class Uart16550 implements MmioDevice {
  readonly name = 'uart';
  private ier = 0;
  private lcr = 0x03;
  private mcr = 0;
  private scr = 0;
  private dll = 0x01;
  private dlm = 0;
  private fifoEnabled = false;
  private overrun = false;
  private threPending = false;
  private readonly rx: number[] = [];
  /** Host bytes beyond what the FIFO holds wait here: a terminal paste is not lost. */
  private readonly backlog: number[] = [];

  constructor(
    private readonly irq: IrqLine,
    private readonly output: (byte: number) => void,
  ) {}

  /** Bytes from the host (stdin) to the guest. */
  receive(bytes: Uint8Array): void {
    for (const b of bytes) this.backlog.push(b);
    this.fill();
  }

  private fill(): void {
    while (this.backlog.length > 0 && this.rx.length < (this.fifoEnabled ? RX_FIFO : 1)) this.rx.push(this.backlog.shift() as number);
    this.updateIrq();
  }

  read(offset: number, size: 1 | 2 | 4): number {
    if (size !== 1) return 0;
    const dlab = (this.lcr & LCR_DLAB) !== 0;
    switch (offset) {
      case RBR_THR_DLL: {
        if (dlab) return this.dll;
        const b = this.rx.shift() ?? 0;
        this.fill();
        return b;
      }
      case IER_DLM:
        return dlab ? this.dlm : this.ier;
      case IIR_FCR: {
        const id = this.interruptId();
        if (id === IIR_THRE) {
          this.threPending = false;
          this.updateIrq();
        }
        return id | (this.fifoEnabled ? IIR_FIFO : 0);
      }
      case LCR:
        return this.lcr;
      case MCR:
        return this.mcr;
      case LSR: {
        const v = (this.rx.length > 0 ? LSR_DR : 0) | (this.overrun ? LSR_OE : 0) | LSR_THRE | LSR_TEMT;
        this.overrun = false;
        return v;
      }
      case MSR:
        return 0xb0; // DCD, DSR, CTS: a terminal is always there
      case SCR:
        return this.scr;
      default:
        return 0;
    }
  }

  write(offset: number, size: 1 | 2 | 4, value: number): void {
    if (size !== 1) return;
    value &= 0xff;
    const dlab = (this.lcr & LCR_DLAB) !== 0;
    switch (offset) {
      case RBR_THR_DLL:
        if (dlab) {
          this.dll = value;
          return;
        }
        if (this.mcr & MCR_LOOP) this.receive(Uint8Array.of(value));
        else this.output(value);
        this.threPending = true;
        this.updateIrq();
        return;
      case IER_DLM:
        if (dlab) {
          this.dlm = value;
          return;
        }
        if (value & IER_THRE && !(this.ier & IER_THRE)) this.threPending = true;
        this.ier = value & 0x0f;
        this.updateIrq();
        return;
      case IIR_FCR:
        this.fifoEnabled = (value & FCR_ENABLE) !== 0;
        if (value & FCR_CLEAR_RX) this.rx.length = 0;
        this.fill();
        return;
      case LCR:
        this.lcr = value;
        return;
      case MCR:
        this.mcr = value & 0x1f;
        return;
      case SCR:
        this.scr = value;
        return;
      default:
        return;
    }
  }

  private interruptId(): number {
    if (this.ier & IER_RDA && this.rx.length > 0) return IIR_RDA;
    if (this.ier & IER_THRE && this.threPending) return IIR_THRE;
    return IIR_NONE;
  }

  private updateIrq(): void {
    this.irq.set(this.interruptId() !== IIR_NONE);
  }
}

import type { Console } from '@uk/hal';

/**
 * The kernel console: until the platform attaches its UART, text waits here, so that a panic
 * during early boot is still printed once a sink exists.
 */
export class BootConsole implements Console {
  #sink: Console | undefined;
  #early: string[] = [];

  attach(sink: Console): void {
    this.#sink = sink;
    const early = this.#early.join('');
    this.#early = [];
    if (early !== '') sink.write(early);
  }

  get attached(): boolean {
    return this.#sink !== undefined;
  }

  write(text: string): void {
    if (this.#sink === undefined) this.#early.push(text);
    else this.#sink.write(text);
  }
}

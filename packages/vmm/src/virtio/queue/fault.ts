/**
 * A guest broke the virtio protocol (a looping chain, an address outside RAM, an index out
 * of range...). The device model catches it and sets DEVICE_NEEDS_RESET; it never leaves a
 * register access.
 */
export class VirtioFault extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VirtioFault';
  }
}

/** How a heap's realloc moves bytes inside guest RAM, given the kernel's view of RAM. */
import type { KernelContext } from '@uk/hal';
import { KernelError } from '@uk/hal';
import { hex } from '../bits.js';

export function ramCopier(ctx: KernelContext): ((from: number, to: number, bytes: number) => void) | undefined {
  const ram = ctx.cpu?.ram;
  if (ram === undefined) return undefined;
  return (from, to, bytes) => {
    const src = from - ram.base;
    const dst = to - ram.base;
    if (src < 0 || dst < 0 || src + bytes > ram.size || dst + bytes > ram.size) {
      throw new KernelError('EFAULT', `realloc: cannot copy ${bytes} bytes from ${hex(from)} to ${hex(to)}: outside RAM`);
    }
    ram.bytes.copyWithin(dst, src, src + bytes);
  };
}

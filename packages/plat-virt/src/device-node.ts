import { type FdtNode, reg } from '@uk/fdt';
import { KernelError } from '@uk/hal';

/** The base address of a device's registers: its first `reg` entry. */
export function registerBase(node: FdtNode): number {
  const [r] = reg(node);
  if (r === undefined) throw new KernelError('ENODEV', `${node.path} has no reg property`);
  return r.address;
}

import { type Entropy, EntropyKey, virtioRng } from '@acme/virtio-rng';
import { region } from '@uk/alloc';
import { kernel } from '@uk/boot';
import { isKernelError, type KernelContext } from '@uk/hal';
import { coop } from '@uk/sched';
import { byteHistogram, CHI_SQUARE_LIMIT, MIN_SAMPLE } from './histogram.js';

/**
 * Reads random bytes from the entropy device, prints the first few, and checks the byte
 * histogram. Exit status 0 when the bytes look random, 1 when the device gave nothing usable.
 *   uk run examples/rng-app [-- <bytes>]
 */
async function main(argv: string[], _env: Record<string, string>, ctx: KernelContext): Promise<number> {
  const say = (line: string) => ctx.console.write(`${line}\n`);
  const count = argv[1] === undefined ? 4096 : Number(argv[1]);
  if (!(Number.isInteger(count) && count > 0 && count <= 1 << 24)) {
    say(`rng-app: ${argv[1]}: expected a number of bytes from 1 to ${1 << 24}`);
    return 2;
  }
  const entropy: Entropy = ctx.get(EntropyKey);
  const bytes = new Uint8Array(count);
  const t0 = ctx.cpu.readTime();
  try {
    await entropy.fill(bytes);
  } catch (e) {
    // No device, or a broken one: say so in one line rather than panic.
    if (!isKernelError(e)) throw e;
    say(`rng-app: ${e.message}`);
    return 1;
  }
  const us = (ctx.cpu.readTime() - t0) / 1000;
  const hex = Array.from(bytes.subarray(0, 16), (b) => b.toString(16).padStart(2, '0')).join(' ');
  say(`rng-app: ${count} random bytes from ${entropy.name} in ${us.toFixed(0)} us: ${hex}${count > 16 ? ' ...' : ''}`);

  const h = byteHistogram(bytes);
  if (h.allZero) {
    say('rng-app: the device returned only zeros: that is no entropy');
    return 1;
  }
  if (count < MIN_SAMPLE) {
    say(`rng-app: ${h.distinct} distinct byte values; too few bytes for a histogram check (${MIN_SAMPLE} or more)`);
    return 0;
  }
  const verdict = h.chiSquare <= CHI_SQUARE_LIMIT ? 'looks uniform' : 'NOT uniform';
  say(`rng-app: ${h.distinct}/256 distinct byte values, chi-square ${h.chiSquare.toFixed(1)} (255 degrees of freedom, limit ${CHI_SQUARE_LIMIT}): ${verdict}`);
  return h.chiSquare <= CHI_SQUARE_LIMIT ? 0 : 1;
}

export default kernel({
  alloc: region(),
  sched: coop(),
  drivers: [virtioRng()],
  main,
});

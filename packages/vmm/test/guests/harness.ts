import { imageFromBytes, IMAGE_MAGIC, Machine, type ExecutionMode, type MachineResult } from '../../src/index.js';

/**
 * Raw guests for machine tests: a `start(cpu, boot)` function written against the CPU
 * interface alone, with no kernel packages, so a test sees exactly what the machine does.
 * The body runs in the guest realm and may use `print(text)` and `powerOff(code)`.
 */
export function rawImage(body: string): ReturnType<typeof imageFromBytes> {
  const code = `${IMAGE_MAGIC}var __ukImage = { default: { async start(cpu, boot) {
    const UART = 0x10000000, TEST = 0x100000;
    const print = (t) => { for (const ch of String(t)) cpu.mmio.write8(UART, ch.charCodeAt(0) & 0xff); };
    const powerOff = (code) => cpu.mmio.write32(TEST, code === 0 ? 0x5555 : (0x3333 | (code << 16)) >>> 0);
    ${body}
  } } };`;
  return imageFromBytes('test.uk.js', new TextEncoder().encode(code));
}

export async function runRaw(body: string, mode: ExecutionMode, extra: { timeoutMs?: number; memBytes?: number } = {}): Promise<{ result: MachineResult; output: string }> {
  let output = '';
  const machine = new Machine({
    image: rawImage(body),
    mode,
    timeoutMs: extra.timeoutMs ?? 10_000,
    memBytes: extra.memBytes,
    output: (b) => {
      output += new TextDecoder().decode(b);
    },
  });
  const result = await machine.run();
  return { result, output };
}

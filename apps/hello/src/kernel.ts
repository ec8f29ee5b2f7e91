import { kernel } from '@uk/boot';
import { compatible, reg } from '@uk/fdt';
import type { KernelContext } from '@uk/hal';

function main(argv: string[], env: Record<string, string>, ctx: KernelContext): number {
  const say = (line: string) => ctx.console.write(`${line}\n`);
  const who = argv.slice(1).join(' ') || 'world';
  say(`Hello, ${who}, from uk!`);

  const ram = ctx.fdt.root.children.filter((n) => n.prop('device_type')?.string() === 'memory').flatMap((n) => reg(n));
  const total = ram.reduce((sum, r) => sum + r.size, 0);
  say(`RAM: ${total / 1048576} MiB at 0x${(ram[0]?.address ?? 0).toString(16)}`);

  say('Devices:');
  for (const node of ctx.fdt.walk()) {
    const compat = compatible(node);
    const [r] = reg(node);
    if (compat.length === 0 || r === undefined || node.parent?.name !== 'soc') continue;
    say(`  0x${r.address.toString(16).padStart(8, '0')}  ${compat[0].padEnd(18)} ${node.name}`);
  }

  const micros = (ctx.mainTime - ctx.entryTime) / 1000;
  say(`Boot: ${micros.toFixed(0)} us from kernel entry to main`);
  if (env.HELLO_EXIT !== undefined) return Number(env.HELLO_EXIT);
  return 0;
}

export default kernel({ main });

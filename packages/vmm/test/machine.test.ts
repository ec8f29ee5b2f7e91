import { describe, expect, it } from 'vitest';
import { ECMASCRIPT_GLOBALS, ExitStatus } from '../src/index.js';
import { runRaw } from './guests/harness.js';

const modes = ['inline', 'isolated'] as const;

describe.each(modes)('the machine in %s mode', (mode) => {
  it('passes the power-off status through as the exit status', async () => {
    const { result, output } = await runRaw(`print('bye'); powerOff(3); await new Promise(() => {});`, mode);
    expect(result).toMatchObject({ reason: 'poweroff', exitCode: 3 });
    expect(output).toBe('bye');
  });

  it('hands the guest the device tree in RAM', async () => {
    const { result } = await runRaw(
      `const off = boot.dtb - cpu.ram.base;
       const b = cpu.ram.bytes;
       const magic = ((b[off] << 24) | (b[off+1] << 16) | (b[off+2] << 8) | b[off+3]) >>> 0;
       powerOff(magic === 0xd00dfeed && cpu.ram.base === 0x80000000 ? 0 : 9);
       await new Promise(() => {});`,
      mode,
    );
    expect(result.exitCode).toBe(0);
  });

  it('stops a guest that touches an address where no device is, with a report', async () => {
    const { result } = await runRaw(`cpu.mmio.read32(0x50000000); powerOff(0);`, mode);
    expect(result.reason).toBe('fault');
    expect(result.exitCode).toBe(ExitStatus.fault);
    expect(result.message).toMatch(/load access fault at 0x50000000: no device/);
  });

  it('reports a store to nowhere as a store access fault', async () => {
    const { result } = await runRaw(`cpu.mmio.write32(0x7000, 1); await cpu.wfi(); powerOff(0);`, mode);
    expect(result.message).toMatch(/store access fault at 0x7000/);
  });

  it('stops a guest that throws, with its error', async () => {
    const { result } = await runRaw(`throw new Error('guest says no');`, mode);
    expect(result.reason).toBe('crash');
    expect(result.message).toContain('guest says no');
  });

  it('stops a guest that never powers off after --timeout', async () => {
    const { result } = await runRaw(`for (;;) await cpu.wfi();`, mode, { timeoutMs: 300 });
    expect(result).toMatchObject({ reason: 'timeout', exitCode: ExitStatus.timeout });
  });

  it('delivers the CLINT timer interrupt through wfi, never early', async () => {
    const { result, output } = await runRaw(
      `let fired = 0;
       cpu.setTrapHandler((t) => { if (t.kind === 'interrupt' && t.code === 7) { fired++; cpu.mmio.write32(0x2004004, 0xffffffff); } });
       cpu.setInterruptEnable(1 << 7);
       const t0 = cpu.readTime();
       const when = t0 + 2_000_000; // 2 ms
       const ticks = Math.ceil(when / 100);
       cpu.mmio.write32(0x2004004, 0xffffffff); cpu.mmio.write32(0x2004000, ticks >>> 0); cpu.mmio.write32(0x2004004, Math.floor(ticks / 2**32));
       while (!fired) await cpu.wfi();
       const late = cpu.readTime() - when;
       print(late >= -100 ? 'ok' : 'early ' + late);
       powerOff(0); await new Promise(() => {});`,
      mode,
    );
    expect(output).toBe('ok');
    expect(result.exitCode).toBe(0);
  });

  it('routes a UART interrupt through the PLIC claim/complete protocol', async () => {
    // Loopback mode: what the guest transmits comes back on its receiver and raises IRQ 10.
    const { result, output } = await runRaw(
      `const PLIC = 0xc000000;
       let got = '';
       cpu.setTrapHandler((t) => {
         if (t.kind !== 'interrupt' || t.code !== 11) return;
         for (;;) {
           const irq = cpu.mmio.read32(PLIC + 0x200004);
           if (irq === 0) break;
           while (cpu.mmio.read8(UART + 5) & 1) got += String.fromCharCode(cpu.mmio.read8(UART));
           cpu.mmio.write32(PLIC + 0x200004, irq);
         }
       });
       cpu.mmio.write32(PLIC + 4 * 10, 1);          // priority
       cpu.mmio.write32(PLIC + 0x2000, 1 << 10);     // enable for context 0
       cpu.mmio.write32(PLIC + 0x200000, 0);         // threshold
       cpu.setInterruptEnable(1 << 11);
       cpu.mmio.write8(UART + 2, 1);                 // FIFO on
       cpu.mmio.write8(UART + 4, 0x10);              // loopback
       cpu.mmio.write8(UART + 1, 1);                 // receive interrupt
       cpu.mmio.write8(UART, 0x68); cpu.mmio.write8(UART, 0x69);
       while (got.length < 2) await cpu.wfi();
       cpu.mmio.write8(UART + 4, 0);
       print(got); powerOff(0); await new Promise(() => {});`,
      mode,
    );
    expect(output).toBe('hi');
    expect(result.exitCode).toBe(0);
  });
});

describe('isolated mode', () => {
  it('honours what a guest posted before its thread ran out of work: the output, then the power-off', async () => {
    // The guest's last act is the power-off; its thread then has nothing left and ends, racing
    // the machine, which is still draining the writes it posted.
    for (let run = 0; run < 5; run++) {
      const { result, output } = await runRaw(`print('x'.repeat(65536)); powerOff(0);`, 'isolated');
      expect(result.reason, result.message).toBe('poweroff');
      expect(result.exitCode).toBe(0);
      expect(output).toHaveLength(65536);
    }
  });

  it('gives the guest no global beyond ECMAScript built-ins', async () => {
    const { result, output } = await runRaw(
      `const found = [];
       for (const name of ['process', 'require', 'fetch', 'Buffer', 'setTimeout', 'setImmediate', 'setInterval', 'queueMicrotask',
                           'console', 'global', 'module', 'exports', '__dirname', 'performance', 'TextEncoder', 'TextDecoder', 'URL',
                           'structuredClone', 'WebAssembly', 'navigator', 'crypto', 'MessageChannel', 'Worker', 'AbortController']) {
         if (typeof globalThis[name] !== 'undefined') found.push(name);
         try { eval(name); found.push(name + '(eval)'); } catch {}
       }
       let imported = false;
       try { await import('node:fs'); imported = true; } catch {}
       if (imported) found.push('import()');
       print(JSON.stringify({ found, globals: Reflect.ownKeys(globalThis).filter((k) => typeof k === 'string') }));
       powerOff(0); await new Promise(() => {});`,
      'isolated',
    );
    expect(result.exitCode, `${result.message}\n${output}`).toBe(0);
    const report = JSON.parse(output) as { found: string[]; globals: string[] };
    expect(report.found).toEqual([]);
    expect(report.globals.filter((g) => !ECMASCRIPT_GLOBALS.has(g))).toEqual([]);
  });

  it('stops a guest stuck in a synchronous loop at the timeout', async () => {
    const { result } = await runRaw(`for (;;) {}`, 'isolated', { timeoutMs: 300 });
    expect(result.reason).toBe('timeout');
  });
});

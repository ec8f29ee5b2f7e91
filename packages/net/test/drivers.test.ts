import { describe, expect, it } from 'vitest';
import { driveFromClock, driveWithHostTimers, NetStack } from './helpers/imports.js';
import { VirtualClock } from '@uk/sched';
import { CaptureDevice, parseFrame } from './helpers/index.js';

describe('driveWithHostTimers', () => {
  it('polls at the deadlines on host timers: ARP retries and a ping timeout happen by themselves', async () => {
    const stack = new NetStack({ now: () => performance.now(), limits: { arp: { retryMs: 5, maxRequests: 3 } } });
    const dev = new CaptureDevice();
    stack.addInterface(dev, { address: '10.0.0.1/24' });
    const driver = driveWithHostTimers(stack, { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>) });
    const outcome = await stack.ping('10.0.0.2', { timeoutMs: 40 }).catch((e: { code: string }) => e.code);
    expect(outcome).toBe('ETIMEDOUT');
    const requests = dev.take().map(parseFrame).filter((f) => f.arp?.tpa === 0x0a000002);
    expect(requests).toHaveLength(3);
    driver.stop();
  });
});

describe('driveFromClock', () => {
  it('programs the clock event with the next deadline (ns) and polls when it expires', async () => {
    const clock = new VirtualClock();
    const stack = new NetStack({ now: () => clock.now() / 1e6, seed: 1 });
    const dev = new CaptureDevice();
    stack.addInterface(dev, { address: '10.0.0.1/24' });
    const driver = driveFromClock(stack, clock);
    const p = stack.ping('10.0.0.2', { timeoutMs: 250 }).catch((e: { code: string }) => e.code);
    await Promise.resolve();
    await Promise.resolve();
    // The ARP retry (1 s) is later than the ping's timeout: the clock is armed for 250 ms.
    expect(clock.deadline).toBe(250e6);
    clock.advanceTo(250e6);
    expect(await p).toBe('ETIMEDOUT');
    expect(clock.deadline).toBe(1000e6);
    driver.stop();
  });
});

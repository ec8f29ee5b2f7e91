import { type ClockEvent, type Component, InitLevel, type KernelContext, type ServiceKey, Services } from '@uk/hal';
import { describe, expect, it } from 'vitest';
import { coop, Scheduler, SchedulerKey, VirtualClock } from '../src/index.js';

/** Just enough of a KernelContext for one component's init: services and a console. */
function fakeContext(clock: ClockEvent) {
  const services = new Map<string, unknown>([[Services.clock.id, clock]]);
  const out: string[] = [];
  const ctx = {
    console: { write: (text: string) => out.push(text) },
    provide<T>(key: ServiceKey<T>, service: T) {
      services.set(key.id, service);
    },
    get<T>(key: ServiceKey<T>): T {
      if (!services.has(key.id)) throw new Error(`no ${key.id}: compose ${key.providedBy}`);
      return services.get(key.id) as T;
    },
    tryGet<T>(key: ServiceKey<T>): T | undefined {
      return services.get(key.id) as T | undefined;
    },
  } as unknown as KernelContext;
  return { ctx, out };
}

describe('coop()', () => {
  it('declares itself at the scheduler level, needing the clock', () => {
    const c: Component = coop();
    expect(c).toMatchObject({ name: 'sched', level: InitLevel.Scheduler, package: '@uk/sched' });
    expect(c.requires).toEqual([Services.clock]);
    expect(c.provides).toEqual([Services.scheduler, Services.timers, SchedulerKey]);
  });

  it('provides a ThreadSpawner that runs main as the first thread, and the scheduler itself', async () => {
    const clock = new VirtualClock();
    const { ctx, out } = fakeContext(clock);
    await coop().init(ctx);
    const sched = ctx.get(SchedulerKey);
    expect(sched).toBeInstanceOf(Scheduler);
    const spawner = ctx.get(Services.scheduler);
    const result = spawner.spawn('main', async () => {
      expect(sched.current?.name).toBe('main');
      expect(sched.current?.id).toBe(1);
      sched.spawn('orphan', async () => {
        throw new Error('nobody joins me');
      });
      await sched.sleep(10);
      return 0;
    });
    // The idle loop boot would run: wait for quiescence, then let the clock fire.
    await new Promise((r) => setImmediate(r));
    expect(clock.deadline).toBe(10);
    clock.advanceTo(10);
    expect(await result).toBe(0);
    expect(out.join('')).toMatch(/^sched: thread #2 orphan failed: Error: nobody joins me/);
  });
});

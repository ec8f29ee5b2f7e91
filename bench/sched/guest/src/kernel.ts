import { kernel } from '@uk/boot';
import { coop, SchedulerKey } from '@uk/sched';

// Yield ping-pong inside a guest: two threads hand the CPU back and forth N times each.
export default kernel({
  sched: coop(),
  async main(_argv, env, ctx) {
    const sched = ctx.get(SchedulerKey);
    const n = Number(env.SWITCHES ?? 1_000_000);
    const t0 = ctx.cpu.readTime();
    const a = sched.spawn('ping', async () => {
      for (let i = 0; i < n; i++) await sched.yield();
    });
    const b = sched.spawn('pong', async () => {
      for (let i = 0; i < n; i++) await sched.yield();
    });
    await a.join();
    await b.join();
    const ns = ctx.cpu.readTime() - t0;
    ctx.console.write(`switches=${2 * n} ns=${ns}\n`);
    return 0;
  },
});

import { buddy } from '@uk/alloc';
import { kernel } from '@uk/boot';
import { fat } from '@uk/fatfs';
import { coop } from '@uk/sched';
import { ramfs, vfs } from '@uk/vfs';
import { virtioBlk } from '@uk/virtio-blk';
import { runCommands } from './shell.js';

// A RAM root, the first disk's FAT volume at /data, and a few shell commands over them:
//   uk run apps/fsdemo --disk disk.img -- ls /data ; cp /data/a.txt /data/b.txt ; cat /data/b.txt
export default kernel({
  alloc: buddy(),
  sched: coop(),
  drivers: [virtioBlk()],
  fs: { '/': ramfs(), '/data': fat('vda') },
  main: (argv, _env, ctx) => runCommands(vfs(ctx), ctx, argv.length > 1 ? argv.slice(1) : ['ls', '/data']),
});

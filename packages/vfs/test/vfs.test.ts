import { describe, expect, it } from 'vitest';
import { isKernelError } from '@uk/hal';
import { O_APPEND, O_CREAT, O_EXCL, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, RamFs, SEEK_CUR, SEEK_END, Vfs } from '../src/index.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

async function rootVfs(opts: { maxBytes?: number } = {}): Promise<Vfs> {
  const v = new Vfs();
  await v.mount('/', new RamFs(opts));
  return v;
}

async function code(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (isKernelError(e)) return e.code;
    throw e;
  }
  return 'ok';
}

describe('Vfs on ramfs', () => {
  it('creates, writes, reads, seeks and stats a file', async () => {
    const v = await rootVfs();
    const fd = await v.open('/a.txt', O_CREAT | O_RDWR);
    expect(fd).toBe(3);
    expect(await v.write(fd, enc('hello, world'))).toBe(12);
    expect(v.lseek(fd, 0)).toBe(0);
    const buf = new Uint8Array(5);
    expect(await v.read(fd, buf)).toBe(5);
    expect(dec(buf)).toBe('hello');
    expect(v.lseek(fd, 2, SEEK_CUR)).toBe(7);
    expect(await v.read(fd, buf)).toBe(5);
    expect(dec(buf)).toBe('world');
    expect(await v.read(fd, buf)).toBe(0);
    expect(v.lseek(fd, -5, SEEK_END)).toBe(7);
    expect(await v.pread(fd, buf, 0)).toBe(5);
    expect(v.lseek(fd, 0, SEEK_CUR)).toBe(7);
    const st = await v.fstat(fd);
    expect(st.size).toBe(12);
    expect(st.type).toBe('file');
    expect(st.dev).toBe(1);
    await v.close(fd);
    expect(await code(v.close(fd))).toBe('EBADF');
    expect(dec(await v.readFile('/a.txt'))).toBe('hello, world');
  });

  it('honours O_EXCL, O_TRUNC and O_APPEND', async () => {
    const v = await rootVfs();
    await v.writeFile('/f', enc('12345'));
    expect(await code(v.open('/f', O_CREAT | O_EXCL | O_WRONLY))).toBe('EEXIST');
    const fd = await v.open('/f', O_WRONLY | O_APPEND);
    await v.write(fd, enc('67'));
    v.lseek(fd, 0);
    await v.write(fd, enc('89'));
    await v.close(fd);
    expect(dec(await v.readFile('/f'))).toBe('123456789');
    const t = await v.open('/f', O_WRONLY | O_TRUNC);
    expect((await v.fstat(t)).size).toBe(0);
    await v.close(t);
    expect(await code(v.open('/missing', O_RDONLY))).toBe('ENOENT');
  });

  it('writes past the end leave zeroes, truncate grows with zeroes and shrinks', async () => {
    const v = await rootVfs();
    const fd = await v.open('/h', 'w+');
    await v.pwrite(fd, enc('x'), 10);
    const all = new Uint8Array(11);
    expect(await v.pread(fd, all, 0)).toBe(11);
    expect([...all]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 120]);
    await v.ftruncate(fd, 3);
    await v.ftruncate(fd, 6);
    const six = new Uint8Array(6);
    expect(await v.pread(fd, six, 0)).toBe(6);
    expect([...six]).toEqual([0, 0, 0, 0, 0, 0]);
    await v.close(fd);
  });

  it('resolves relative paths, dot and dot-dot, and symlinks, with a loop limit', async () => {
    const v = await rootVfs();
    await v.mkdir('/a/b/c', { recursive: true });
    await v.writeFile('/a/b/c/f', enc('deep'));
    await v.chdir('/a/b');
    expect(dec(await v.readFile('c/f'))).toBe('deep');
    expect(dec(await v.readFile('./c/../c/./f'))).toBe('deep');
    expect(dec(await v.readFile('../../../../a/b/c/f'))).toBe('deep');
    expect(v.getcwd()).toBe('/a/b');
    await v.symlink('/a/b/c', '/link');
    await v.symlink('c/f', '/a/b/rel');
    expect(dec(await v.readFile('/link/f'))).toBe('deep');
    expect(dec(await v.readFile('/a/b/rel'))).toBe('deep');
    expect(await v.readlink('/link')).toBe('/a/b/c');
    expect((await v.lstat('/link')).type).toBe('symlink');
    expect((await v.stat('/link')).type).toBe('directory');
    // .. after a symlink is physical: /link/.. is /a/b, not /.
    expect((await v.readdir('/link/..')).map((e) => e.name).sort()).toEqual(['c', 'rel']);
    await v.symlink('/loop2', '/loop1');
    await v.symlink('/loop1', '/loop2');
    expect(await code(v.readFile('/loop1'))).toBe('ELOOP');
    expect(await code(v.stat('/a/b/c/f/x'))).toBe('ENOTDIR');
    expect(await code(v.stat('/a/b/c/f/'))).toBe('ENOTDIR');
    expect(await code(v.stat(`/${'n'.repeat(256)}`))).toBe('ENAMETOOLONG');
    expect(await code(v.stat(`/${'a/'.repeat(2100)}`))).toBe('ENAMETOOLONG');
    // O_CREAT through a dangling symlink makes the target.
    await v.symlink('/made', '/dangling');
    await v.writeFile('/dangling', enc('m'));
    expect(dec(await v.readFile('/made'))).toBe('m');
  });

  it('mkdir, rmdir, unlink and readdir report POSIX errors', async () => {
    const v = await rootVfs();
    await v.mkdir('/d');
    expect(await code(v.mkdir('/d'))).toBe('EEXIST');
    expect(await code(v.mkdir('/x/y'))).toBe('ENOENT');
    await v.writeFile('/d/f', enc('1'));
    expect(await code(v.rmdir('/d'))).toBe('ENOTEMPTY');
    expect(await code(v.unlink('/d'))).toBe('EISDIR');
    expect(await code(v.rmdir('/d/f'))).toBe('ENOTDIR');
    expect(await code(v.rmdir('/'))).toBe('EBUSY');
    expect(await code(v.readdir('/d/f'))).toBe('ENOTDIR');
    expect(await code(v.open('/d', O_WRONLY))).toBe('EISDIR');
    const dfd = await v.open('/d');
    expect(await code(v.read(dfd, new Uint8Array(1)))).toBe('EISDIR');
    await v.close(dfd);
    expect((await v.readdir('/d')).map((e) => [e.name, e.type])).toEqual([['f', 'file']]);
    await v.unlink('/d/f');
    await v.rmdir('/d');
    expect(await v.exists('/d')).toBe(false);
    expect(await code(v.unlink('/d/f'))).toBe('ENOENT');
  });

  it('renames files and directories, replacing what the POSIX rules allow', async () => {
    const v = await rootVfs();
    await v.mkdir('/a');
    await v.mkdir('/b');
    await v.writeFile('/a/f', enc('F'));
    await v.writeFile('/b/g', enc('G'));
    await v.rename('/a/f', '/b/g');
    expect(dec(await v.readFile('/b/g'))).toBe('F');
    expect(await v.exists('/a/f')).toBe(false);
    expect(await code(v.rename('/a', '/a/sub'))).toBe('EINVAL');
    expect(await code(v.rename('/b/g', '/a'))).toBe('EISDIR');
    expect(await code(v.rename('/a', '/b/g'))).toBe('ENOTDIR');
    await v.writeFile('/b/h', enc('H'));
    expect(await code(v.rename('/a', '/b'))).toBe('ENOTEMPTY');
    await v.mkdir('/empty');
    await v.rename('/b', '/empty');
    expect(dec(await v.readFile('/empty/h'))).toBe('H');
    await v.rename('/empty/h', '/empty/h');
    expect(await code(v.rename('/nope', '/x'))).toBe('ENOENT');
  });

  it('keeps an unlinked file readable through an open descriptor', async () => {
    const v = await rootVfs({ maxBytes: 1000 });
    await v.writeFile('/f', new Uint8Array(600));
    const fd = await v.open('/f');
    await v.unlink('/f');
    expect(await code(v.writeFile('/g', new Uint8Array(600)))).toBe('ENOSPC');
    expect(await v.read(fd, new Uint8Array(1000))).toBe(600);
    await v.close(fd);
    await v.writeFile('/g', new Uint8Array(600));
  });

  it('gives ENOSPC without changing the file when ramfs is full', async () => {
    const v = await rootVfs({ maxBytes: 100 });
    await v.writeFile('/f', enc('keep'));
    const fd = await v.open('/f', O_WRONLY | O_APPEND);
    expect(await code(v.write(fd, new Uint8Array(200)))).toBe('ENOSPC');
    await v.close(fd);
    expect(dec(await v.readFile('/f'))).toBe('keep');
  });

  it('has a synchronous fast path for ramfs, and checks access modes', async () => {
    const v = await rootVfs();
    const fd = await v.open('/s', 'w+');
    expect(v.writeSync(fd, enc('abcdef'))).toBe(6);
    const b = new Uint8Array(3);
    expect(v.preadSync(fd, b, 2)).toBe(3);
    expect(dec(b)).toBe('cde');
    v.lseek(fd, 0);
    expect(v.readSync(fd, b)).toBe(3);
    expect(dec(b)).toBe('abc');
    expect(v.pwriteSync(fd, enc('Z'), 0)).toBe(1);
    await v.close(fd);
    const ro = await v.open('/s');
    expect(await code(() => v.writeSync(ro, b))).toBe('EBADF');
    expect(await code(() => v.preadSync(ro, b, -1))).toBe('EINVAL');
    expect(await code(() => v.readSync(99, b))).toBe('EBADF');
    await v.close(ro);
  });

  it('mounts file systems on directories, crosses them both ways, and refuses what is busy', async () => {
    const v = await rootVfs();
    const inner = new RamFs();
    await v.mount('/mnt/inner', inner);
    await v.writeFile('/mnt/inner/x', enc('in'));
    expect(inner.root.children.has('x')).toBe(true);
    expect((await v.stat('/mnt/inner/x')).dev).toBe(2);
    expect((await v.readdir('/mnt/inner/..')).map((e) => e.name)).toEqual(['inner']);
    expect(await code(v.rename('/mnt/inner/x', '/y'))).toBe('EXDEV');
    expect(await code(v.rmdir('/mnt/inner'))).toBe('EBUSY');
    const fd = await v.open('/mnt/inner/x');
    expect(await code(v.unmount('/mnt/inner'))).toBe('EBUSY');
    await v.close(fd);
    await v.unmount('/mnt/inner');
    expect(await v.exists('/mnt/inner/x')).toBe(false);
    expect(v.mounts().map((m) => m.path)).toEqual(['/']);
    const ro = new Vfs();
    await ro.mount('/', new RamFs({ readOnly: true }));
    expect(await code(ro.mkdir('/a'))).toBe('EROFS');
    expect(await code(ro.open('/f', O_CREAT | O_WRONLY))).toBe('EROFS');
  });

  it('hands out the lowest free descriptor and stops at the limit', async () => {
    const v = new Vfs({ maxOpenFiles: 3 });
    await v.mount('/', new RamFs());
    await v.writeFile('/f', enc('x'));
    const a = await v.open('/f');
    const b = await v.open('/f');
    const c = await v.open('/f');
    expect([a, b, c]).toEqual([3, 4, 5]);
    expect(await code(v.open('/f'))).toBe('EMFILE');
    await v.close(b);
    expect(await v.open('/f')).toBe(4);
  });
});

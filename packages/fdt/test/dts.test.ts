import { describe, expect, it } from 'vitest';
import { type FdtValue, buildFdt, parseFdt, toDts } from '../src/index.js';
import { dtbToDts, dtcPrintsLike16, dtsToDtb, hasDtc } from './dtc.js';
import { FIXTURES, readFixture, readFixtureText } from './fixture-files.js';

function valueLine(value: FdtValue): string {
  const dts = toDts(parseFdt(buildFdt({ root: { name: '', props: { p: value } } })));
  const line = dts.split('\n').find((l) => l.startsWith('\tp'));
  if (line === undefined) throw new Error(`no property line in ${dts}`);
  return line.slice(1);
}

describe('toDts value guesses (dtc 1.6 rules)', () => {
  it('prints printable NUL-terminated data as a string', () => {
    expect(valueLine('okay')).toBe('p = "okay";');
    expect(valueLine('a')).toBe('p = "a";');
    expect(valueLine(['abc', 'de'])).toBe('p = "abc\\0de";');
  });

  it('escapes as dtc does', () => {
    expect(valueLine('t\tn\n"q"\\ \x07\x08\x0b\x0c\r')).toBe('p = "t\\tn\\n\\"q\\"\\\\ \\a\\b\\v\\f\\r";');
  });

  it('prints data with more NULs than characters, or unprintable bytes, as cells or bytes', () => {
    expect(valueLine('')).toBe('p = [00];');
    expect(valueLine(['', ''])).toBe('p = [00 00];');
    expect(valueLine(new Uint8Array([0x61, 0, 0, 0]))).toBe('p = <0x61000000>;');
    expect(valueLine(new Uint8Array([0x61, 0, 0x62, 0]))).toBe('p = "a\\0b";');
    expect(valueLine(new Uint8Array([0xc3, 0xa9, 0]))).toBe('p = [c3 a9 00];');
    expect(valueLine(new Uint8Array([1, 2, 3]))).toBe('p = [01 02 03];');
    expect(valueLine([0, 1, 0xffffffff])).toBe('p = <0x00 0x01 0xffffffff>;');
    expect(valueLine(true)).toBe('p;');
  });

  it('lays out nodes, memreserve lines and blank lines like dtc', () => {
    const dtb = buildFdt({
      memReserve: [{ address: 0x8000_0000n, size: 0x1000 }],
      root: { name: '', props: { a: 1 }, children: [{ name: 'x@1', props: { name: 'x' }, children: [{ name: 'y' }] }, { name: 'z' }] },
    });
    expect(toDts(parseFdt(dtb))).toBe(
      [
        '/dts-v1/;',
        '',
        '/memreserve/\t0x0000000080000000 0x0000000000001000;',
        '/ {',
        '\ta = <0x01>;',
        '',
        '\tx@1 {',
        '',
        '\t\ty {',
        '\t\t};',
        '\t};',
        '',
        '\tz {',
        '\t};',
        '};',
        '',
      ].join('\n'),
    );
  });
});

describe.runIf(hasDtc)('toDts against dtc -I dtb -O dts', () => {
  for (const name of FIXTURES) {
    it(`${name}: the committed dtb is what dtc makes of the source`, () => {
      expect(Buffer.from(dtsToDtb(readFixtureText(`${name}.dts`))).equals(Buffer.from(readFixture(`${name}.dtb`)))).toBe(true);
    });

    it(`${name}: prints what dtc prints`, () => {
      const dtb = dtsToDtb(readFixtureText(`${name}.dts`));
      const ours = toDts(parseFdt(dtb));
      const theirs = dtbToDts(dtb);
      expect(theirs.status).toBe(0);
      if (dtcPrintsLike16) expect(ours).toBe(theirs.dts);
      // Whatever dtc's version, its compiler must read our text back into the same blob.
      expect(Buffer.from(dtsToDtb(ours)).equals(Buffer.from(dtb))).toBe(true);
    });
  }
});

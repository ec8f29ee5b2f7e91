// Hostile input: whatever the bytes, parseFdt returns a tree or throws FdtError, and so does
// everything that reads the tree. UK_FUZZ_CASES raises the number of random cases.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  nodeByPhandle,
  phandleOf,
  type Fdt,
  FdtError,
  addressCells,
  buildFdt,
  chosen,
  compatible,
  fdtToSpec,
  interruptParent,
  interrupts,
  interruptsExtended,
  isEnabled,
  parseFdt,
  readFdtTotalSize,
  reg,
  regBig,
  sizeCells,
  toDts,
  baseName,
  unitAddress,
} from '../src/index.js';
import { FIXTURES, readFixture } from './fixture-files.js';

const CASES = Number(process.env.UK_FUZZ_CASES ?? 20_000);
const blobs = FIXTURES.map((n) => readFixture(`${n}.dtb`));

/** Runs f; an FdtError is an acceptable outcome, anything else fails the test. */
function tolerant(f: () => void): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof FdtError)) throw e;
  }
}

/** Reads every part of a parsed tree through the public interface. */
function exercise(fdt: Fdt): void {
  for (const node of fdt.walk()) {
    void node.path;
    void baseName(node);
    void unitAddress(node);
    void phandleOf(node);
    for (const p of node.properties) {
      tolerant(() => p.u32());
      tolerant(() => p.u64());
      tolerant(() => p.cells());
      tolerant(() => p.string());
      tolerant(() => p.strings());
    }
    tolerant(() => compatible(node));
    tolerant(() => isEnabled(node));
    tolerant(() => [addressCells(node), sizeCells(node)]);
    tolerant(() => reg(node));
    tolerant(() => regBig(node));
    tolerant(() => interruptParent(fdt, node));
    tolerant(() => interrupts(fdt, node));
    tolerant(() => interruptsExtended(fdt, node));
    const ph = phandleOf(node);
    if (ph !== undefined) expect(nodeByPhandle(fdt, ph)).toBeDefined();
  }
  tolerant(() => chosen(fdt));
  void fdt.node('serial0');
  void fdt.node('/soc/serial');
  void fdt.findCompatible('virtio,mmio');
  expect(toDts(fdt).startsWith('/dts-v1/;\n')).toBe(true);
  tolerant(() => {
    const again = parseFdt(buildFdt(fdtToSpec(fdt)));
    expect([...again.walk()].length).toBe([...fdt.walk()].length);
  });
}

/** The whole contract: a tree or an FdtError, never another exception. */
function parseOrFdtError(bytes: Uint8Array): 'parsed' | 'rejected' {
  let fdt: Fdt;
  try {
    fdt = parseFdt(bytes);
  } catch (e) {
    if (e instanceof FdtError) {
      expect(e.message.length).toBeGreaterThan(0);
      return 'rejected';
    }
    throw e;
  }
  exercise(fdt);
  return 'parsed';
}

function withU32(b: Uint8Array, off: number, v: number): Uint8Array {
  new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(off, v >>> 0);
  return b;
}

describe('truncation', () => {
  it('every prefix of every fixture is rejected (totalsize says more)', () => {
    for (const blob of blobs) {
      for (let len = 0; len < blob.length; len++) expect(parseOrFdtError(blob.subarray(0, len))).toBe('rejected');
      expect(parseOrFdtError(blob)).toBe('parsed');
    }
  });

  it('every prefix with its header rewritten to claim only that length is rejected', () => {
    for (const blob of blobs) {
      for (let len = 40; len < blob.length; len++) {
        const b = withU32(blob.slice(0, len), 4, len);
        const dv = new DataView(b.buffer);
        // Shrink both blocks to fit, so that the cut lands inside the structure or strings.
        const structOff = dv.getUint32(8);
        const stringsOff = dv.getUint32(12);
        if (structOff <= len) dv.setUint32(36, Math.min(dv.getUint32(36), len - structOff));
        if (stringsOff <= len) dv.setUint32(32, Math.min(dv.getUint32(32), len - stringsOff));
        expect(parseOrFdtError(b)).toBe('rejected');
      }
    }
  });
});

describe('mutation', () => {
  const interesting = fc.constantFrom(0, 1, 2, 3, 4, 9, 0x10, 0x11, 0x28, 0x38, 0xff, 0x7fffffff, 0x80000000, 0xfffffffc, 0xffffffff);
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), v: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('word' as const), at: fc.nat(), v: fc.oneof(interesting, fc.nat()) }),
    fc.record({ kind: fc.constant('header' as const), field: fc.integer({ min: 1, max: 9 }), v: fc.oneof(interesting, fc.nat()) }),
  );

  it(`random edits of real blobs (${CASES} cases)`, () => {
    let parsed = 0;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: blobs.length - 1 }), fc.array(edit, { minLength: 1, maxLength: 6 }), (which, edits) => {
        const b = blobs[which].slice();
        const dv = new DataView(b.buffer);
        for (const e of edits) {
          if (e.kind === 'byte') b[e.at % b.length] = e.v;
          else if (e.kind === 'flip') b[e.at % b.length] ^= 1 << e.bit;
          else if (e.kind === 'word') dv.setUint32(((e.at % (b.length >> 2)) << 2) >>> 0, e.v >>> 0);
          else dv.setUint32(e.field * 4, e.v >>> 0);
        }
        if (parseOrFdtError(b) === 'parsed') parsed++;
      }),
      { numRuns: CASES },
    );
    // Some edits land in values and names, which parse fine: both paths were taken.
    expect(parsed).toBeGreaterThan(0);
    expect(parsed).toBeLessThan(CASES);
  });
});

describe('garbage', () => {
  it('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (b) => {
        expect(parseOrFdtError(b)).toBe('rejected');
        tolerant(() => readFdtTotalSize(b));
      }),
      { numRuns: Math.max(200, CASES / 20) },
    );
  });

  it('a valid header over random structure tokens', () => {
    const word = fc.oneof(fc.constantFrom(1, 2, 3, 4, 9, 0, 0x61626300, 0x61000000), fc.nat({ max: 64 }), fc.nat());
    fc.assert(
      fc.property(fc.array(word, { maxLength: 80 }), fc.uint8Array({ maxLength: 40 }), (words, strings) => {
        const structOff = 56;
        const stringsOff = structOff + words.length * 4;
        const b = new Uint8Array(stringsOff + strings.length);
        const dv = new DataView(b.buffer);
        [0xd00dfeed, b.length, structOff, stringsOff, 40, 17, 16, 0, strings.length, words.length * 4].forEach((v, i) => dv.setUint32(i * 4, v));
        words.forEach((w, i) => dv.setUint32(structOff + i * 4, w >>> 0));
        b.set(strings, stringsOff);
        parseOrFdtError(b);
      }),
      { numRuns: Math.max(500, CASES / 4) },
    );
  });
});

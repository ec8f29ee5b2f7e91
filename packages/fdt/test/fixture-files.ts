// The interop fixtures: .dts sources and the .dtb files dtc compiles them to (committed, so
// that tests run without dtc; the dtc tests check that they are still what dtc makes).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
}

export function readFixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(fixturePath(name)));
}

export function readFixtureText(name: string): string {
  return readFileSync(fixturePath(name), 'utf8');
}

export const FIXTURES = ['qemu-virt', 'values', 'addressing'] as const;

/**
 * GUIDs as GPT stores them: the first three fields little-endian, the last two as bytes,
 * printed in the usual 8-4-4-4-12 form (upper case, as the UEFI specification writes them).
 */
export function formatGuid(b: Uint8Array): string {
  const h = (i: number) => b[i].toString(16).padStart(2, '0');
  const part = (idx: number[]) => idx.map(h).join('');
  return [part([3, 2, 1, 0]), part([5, 4]), part([7, 6]), part([8, 9]), part([10, 11, 12, 13, 14, 15])].join('-').toUpperCase();
}

export function isZeroGuid(b: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (b[i] !== 0) return false;
  return true;
}

/** Well-known partition type GUIDs. */
export const GptType = {
  EfiSystem: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B',
  MicrosoftBasicData: 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7',
  LinuxFilesystem: '0FC63DAF-8483-4772-8E79-3D69D8477DE4',
  LinuxSwap: '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F',
} as const;

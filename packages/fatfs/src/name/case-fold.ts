/**
 * Names on FAT compare without regard to case. Each UTF-16 unit is upper-cased on its own
 * (a simple mapping, as Windows' up-case table does): a unit whose upper case would be
 * longer ('ß' → 'SS') stays as it is.
 */
export function foldName(name: string): string {
  let ascii = true;
  for (let i = 0; i < name.length; i++) {
    if (name.charCodeAt(i) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return name.toUpperCase();
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x80) {
      out += c >= 97 && c <= 122 ? String.fromCharCode(c - 32) : name[i];
    } else {
      const up = name[i].toUpperCase();
      out += up.length === 1 ? up : name[i];
    }
  }
  return out;
}

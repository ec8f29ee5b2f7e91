/**
 * The kernel command line (/chosen/bootargs): `NAME=value ... -- argv0 argv1 ...`.
 * Words before `--` set the environment; words after it are main's argv. Without `--`, every
 * word is an argument. Words may be quoted with "..." or '...'; a backslash escapes one
 * character outside single quotes.
 */
export interface CommandLine {
  readonly argv: string[];
  readonly env: Record<string, string>;
}

export function splitWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

export function parseCommandLine(line: string): CommandLine {
  const words = splitWords(line);
  const sep = words.indexOf('--');
  const env: Record<string, string> = {};
  if (sep < 0) return { argv: words, env };
  for (const w of words.slice(0, sep)) {
    const eq = w.indexOf('=');
    if (eq > 0) env[w.slice(0, eq)] = w.slice(eq + 1);
  }
  return { argv: words.slice(sep + 1), env };
}

/** The inverse, for hosts that build a command line: quotes what needs quoting. */
export function quoteWord(w: string): string {
  return w !== '' && /^[A-Za-z0-9_\-./:=,@+%]+$/.test(w) ? w : `"${w.replace(/["\\]/g, (m) => `\\${m}`)}"`;
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCommandLine, quoteWord, splitWords } from '../src/index.js';

describe('the kernel command line', () => {
  it('splits environment from argv at --', () => {
    expect(parseCommandLine('A=1 B="two words" -- hello x "y z"')).toEqual({ env: { A: '1', B: 'two words' }, argv: ['hello', 'x', 'y z'] });
  });

  it('treats every word as an argument without --', () => {
    expect(parseCommandLine('hello a b')).toEqual({ env: {}, argv: ['hello', 'a', 'b'] });
  });

  it('keeps empty quoted words and escapes', () => {
    expect(splitWords(`a "" 'it''s' b\\ c "q\\"uote"`)).toEqual(['a', '', 'its', 'b c', 'q"uote']);
  });

  it('reads back whatever quoteWord wrote', () => {
    fc.assert(
      fc.property(fc.array(fc.string()), (words) => {
        expect(splitWords(words.map(quoteWord).join(' '))).toEqual(words);
      }),
    );
  });
});

// containing(): the search pattern of `q` filters, with the user's wildcards escaped.
import { describe, expect, it } from 'vitest';
import { containing } from '../../server/core/likePattern.ts';

describe('containing', () => {
  it('wraps the text in % and escapes %, _ and backslash', () => {
    expect(containing('PAX')).toBe('%PAX%');
    expect(containing('50%_off\\x')).toBe('%50\\%\\_off\\\\x%');
  });
});

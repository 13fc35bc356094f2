// Percent-encoding of path ids and query values, loose enough to carry lone surrogates, and the
// encoded garbage spliced into them that a decoder must survive.

/** encodeURIComponent that writes a lone surrogate as its WTF-8 bytes instead of throwing. */
export function encodeLoose(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (code >= 0xd800 && code <= 0xdfff) {
      out += [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)]
        .map((b) => `%${b.toString(16).toUpperCase()}`)
        .join('');
    } else out += encodeURIComponent(ch);
  }
  return out;
}

/**
 * `text` percent-encoded with `garbage` spliced in between two of its characters, never inside
 * one's `%XX` bytes: `%00` within a broken sequence stays undecoded, as three characters.
 */
export const spliceEncoded = (text: string, garbage: string) => {
  const chars = Array.from(text);
  const mid = Math.ceil(chars.length / 2);
  return encodeLoose(chars.slice(0, mid).join('')) + garbage + encodeLoose(chars.slice(mid).join(''));
};

/** Encoded pieces spliced into a path id or query value as they stand: garbage a decoder must survive. */
export const ENCODED_GARBAGE = [
  '%00',
  '%ZZ',
  '%',
  '%E0%A4%A',
  '%C0%AF',
  '%ED%A0%80',
  '%FF%FE',
  '..%2F',
  '..%2F..%2Fhealthz',
  '%2e%2e%2f',
  '%252e',
  '%0d%0aX-Injected:%201',
  '%u0000',
];

// Greps text (log lines, API responses) for secret bytes in every encoding they could leak in:
// hex either case, base64, base64url, unpadded base64, and the middle 24 bytes alone (defeats
// prefix/suffix games in encodings). Returns a short prefix of each form found.
export function findKeyMaterial(haystack: string, secrets: Buffer[]): string[] {
  const found: string[] = [];
  for (const s of secrets) {
    const forms = [s.toString('hex'), s.toString('hex').toUpperCase(), s.toString('base64'), s.toString('base64url'), s.toString('base64').replace(/=+$/, '')];
    for (const f of forms) if (haystack.includes(f)) found.push(f.slice(0, 8));
    const mid = s.subarray(3, 27);
    for (const f of [mid.toString('hex'), mid.toString('hex').toUpperCase(), mid.toString('base64')]) if (haystack.includes(f)) found.push(f.slice(0, 8));
  }
  return found;
}

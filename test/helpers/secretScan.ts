// Greps what a test captured (API answers, log lines, MQTT payloads, stream events) for the bytes
// of every secret of the run. Pure: no I/O, so test/unit/secretScan.test.ts can prove it fails.
//
// Each text is searched for every run that could carry bytes: hex (either case, either parity, or
// bytes separated by spaces or colons as Node prints a Buffer), base64 and base64url (padded or
// not, each of the 4 alignments, so bytes inside a longer encoded blob are found too) and decimal
// byte lists (a Buffer in JSON: `"data":[12,34,…]`).
// Every run is decoded and searched for any 8-byte window of a secret, so a partial leak counts:
// a whole secret is reported as its encoding, a part of one as `<encoding> window`.

export interface Secret {
  /** Names the secret in a failure: a key id and what it is, "master key gen 2", "component 1". */
  name: string;
  bytes: Buffer;
}

export interface Captured {
  /** Where the text was seen: "GET /v1/audit → 200", "server log line 812", "mqtt to dev_… cmd". */
  where: string;
  text: string;
}

export type LeakForm = 'hex' | 'hex window' | 'base64' | 'base64 window' | 'byte list' | 'byte list window';

export interface Leak {
  secret: string;
  form: LeakForm;
  where: string;
}

/** The smallest part of a secret that counts as a leak: 8 bytes, 2^-64 by chance. */
export const WINDOW_BYTES = 8;

type Encoding = 'hex' | 'base64' | 'byte list';

const hexRun = /[0-9A-Fa-f]{16,}/g;
// Node's inspect of a Buffer (`<Buffer 3f 41 …>`), or colon-separated hex.
const separatedHex = /[0-9A-Fa-f]{2}(?:[ :][0-9A-Fa-f]{2}){7,}/g;
// Node's base64 decoder takes both alphabets; 11 characters are the fewest that hold 8 bytes.
const base64Run = /[A-Za-z0-9+/_-]{11,}/g;
const byteList = /\d{1,3}(?:\s*,\s*\d{1,3}){7,}/g;

interface Candidate {
  secret: Secret;
  /** Offset of this window in the secret. */
  offset: number;
}

/** The windows of every secret, indexed by their first 4 bytes for a cheap first test. */
function indexWindows(secrets: readonly Secret[]): Map<number, Candidate[]> {
  const index = new Map<number, Candidate[]>();
  for (const secret of secrets) {
    if (secret.bytes.length < WINDOW_BYTES)
      throw new Error(`secret ${secret.name} has ${secret.bytes.length} bytes; the scan needs at least ${WINDOW_BYTES}`);
    for (let offset = 0; offset + WINDOW_BYTES <= secret.bytes.length; offset++) {
      const head = secret.bytes.readInt32BE(offset);
      const list = index.get(head);
      if (list) list.push({ secret, offset });
      else index.set(head, [{ secret, offset }]);
    }
  }
  return index;
}

/** Every byte sequence a run of `text` decodes to, with the encoding that produced it. */
function decodedRuns(text: string): Array<{ encoding: Encoding; bytes: Buffer }> {
  const out: Array<{ encoding: Encoding; bytes: Buffer }> = [];
  for (const [run] of text.matchAll(hexRun)) {
    out.push({ encoding: 'hex', bytes: Buffer.from(run.length % 2 ? run.slice(0, -1) : run, 'hex') });
    out.push({ encoding: 'hex', bytes: Buffer.from(run.length % 2 ? run.slice(1) : run.slice(1, -1), 'hex') });
  }
  for (const [run] of text.matchAll(separatedHex)) out.push({ encoding: 'hex', bytes: Buffer.from(run.replace(/[ :]/g, ''), 'hex') });
  for (const [run] of text.matchAll(base64Run)) {
    for (let shift = 0; shift < 4 && run.length - shift >= 11; shift++)
      out.push({ encoding: 'base64', bytes: Buffer.from(run.slice(shift), 'base64') });
  }
  for (const [run] of text.matchAll(byteList)) {
    const values = run.split(',').map((v) => Number(v.trim()));
    if (values.every((v) => v <= 255)) out.push({ encoding: 'byte list', bytes: Buffer.from(values) });
  }
  return out;
}

/** Every leak of a secret (whole or any 8-byte window) in any captured text, once per secret, form and place. */
export function findLeaks(captured: readonly Captured[], secrets: readonly Secret[]): Leak[] {
  const index = indexWindows(secrets);
  const leaks = new Map<string, Leak>();
  for (const { where, text } of captured) {
    for (const { encoding, bytes } of decodedRuns(text)) {
      for (let at = 0; at + WINDOW_BYTES <= bytes.length; at++) {
        const candidates = index.get(bytes.readInt32BE(at));
        if (!candidates) continue;
        for (const { secret, offset } of candidates) {
          if (!bytes.subarray(at, at + WINDOW_BYTES).equals(secret.bytes.subarray(offset, offset + WINDOW_BYTES))) continue;
          const form: LeakForm = bytes.includes(secret.bytes) ? encoding : `${encoding} window`;
          const id = `${secret.name}\u0000${form}\u0000${where}`;
          if (!leaks.has(id)) leaks.set(id, { secret: secret.name, form, where });
        }
      }
    }
  }
  return [...leaks.values()];
}

/** One line per leak, for a failure message: which secret, in what form, where. Never the bytes. */
export function describeLeaks(leaks: readonly Leak[]): string {
  return leaks.map((l) => `${l.secret}: ${l.form} in ${l.where}`).join('\n');
}

/** Throws naming every leak; the test's final assertion. */
export function assertNoLeaks(captured: readonly Captured[], secrets: readonly Secret[]): void {
  const leaks = findLeaks(captured, secrets);
  if (leaks.length) throw new Error(`key material leaked (${leaks.length}):\n${describeLeaks(leaks)}`);
}

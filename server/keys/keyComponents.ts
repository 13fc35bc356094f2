// Key components for a master-key import under split knowledge (SPEC §5, docs/keys.md "Key
// ceremony"): two custodians each hold a 32-byte component; the key is their XOR, so neither
// knows it. Pure functions over buffers; the caller wipes what it gets.
//
// While a request waits for the second custodian, component 1 is kept only sealed under the
// vault's master key, in the same layout as a sealed key:
//   sealed = base64( gen uint32 BE ‖ nonce 12 ‖ AES-256-GCM ciphertext 32 ‖ tag 16 )
//   AAD    = "posfleet-vault/component/v1;approval=<request id>;n=1"
import { createCipheriv, createDecipheriv, randomBytes, timingSafeEqual } from 'node:crypto';
import { keyCheckValue } from '../../schemas/keyCrypto/cmac.ts';

export const COMPONENT_BYTES = 32;

/** 64 hex digits, either case, no separators. */
export const COMPONENT_HEX = /^[0-9A-Fa-f]{64}$/;

export function parseComponent(hex: string): Buffer {
  if (!COMPONENT_HEX.test(hex)) throw new RangeError('a key component is 64 hex digits (32 bytes)');
  return Buffer.from(hex, 'hex');
}

export const isAllZero = (b: Uint8Array) => b.every((x) => x === 0);

export const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && timingSafeEqual(a, b);

/** The key the components make: component 1 XOR component 2. */
export function combineComponents(c1: Uint8Array, c2: Uint8Array): Buffer {
  if (c1.length !== COMPONENT_BYTES || c2.length !== COMPONENT_BYTES) throw new RangeError('key components are 32 bytes');
  const key = Buffer.alloc(COMPONENT_BYTES);
  for (let i = 0; i < COMPONENT_BYTES; i++) key[i] = c1[i]! ^ c2[i]!;
  return key;
}

/** What the custodians check: each component's KCV and the resulting key's (SPEC §5 KCV). */
export function ceremonyKcvs(c1: Uint8Array, c2: Uint8Array): { component1Kcv: string; component2Kcv: string; keyKcv: string } {
  const key = combineComponents(c1, c2);
  try {
    return { component1Kcv: keyCheckValue(c1), component2Kcv: keyCheckValue(c2), keyKcv: keyCheckValue(key) };
  } finally {
    key.fill(0);
  }
}

const componentAad = (approvalId: string) => Buffer.from(`posfleet-vault/component/v1;approval=${approvalId};n=1`, 'utf8');
const SEALED_BYTES = 4 + 12 + COMPONENT_BYTES + 16;

export function sealComponent(master: { gen: number; key: Buffer }, approvalId: string, component: Uint8Array): string {
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', master.key, nonce);
  c.setAAD(componentAad(approvalId));
  const ct = Buffer.concat([c.update(component), c.final()]);
  const g = Buffer.alloc(4);
  g.writeUInt32BE(master.gen);
  return Buffer.concat([g, nonce, ct, c.getAuthTag()]).toString('base64');
}

/** Component 1 back, or null if it does not open (other request, master key gone, tampered). */
export function openComponent(masterOf: (gen: number) => Buffer | undefined, approvalId: string, sealed: string): Buffer | null {
  const b = Buffer.from(sealed, 'base64');
  if (b.length !== SEALED_BYTES) return null;
  const master = masterOf(b.readUInt32BE(0));
  if (!master) return null;
  try {
    const d = createDecipheriv('aes-256-gcm', master, b.subarray(4, 16));
    d.setAAD(componentAad(approvalId));
    d.setAuthTag(b.subarray(16 + COMPONENT_BYTES));
    return Buffer.concat([d.update(b.subarray(16, 16 + COMPONENT_BYTES)), d.final()]);
  } catch {
    return null;
  }
}

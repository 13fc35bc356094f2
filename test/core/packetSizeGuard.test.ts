// The packet size guard decides from fixed headers alone, whatever way the bytes are split into chunks.
import { describe, expect, it } from 'vitest';
import { createPacketSizeGuard, type PacketLimits } from '../../server/broker/packetSizeGuard.ts';

const limits: PacketLimits = { beforeAuth: 100, totalBeforeAuth: 400, afterAuth: 1000 };

/** A packet of type byte 0x30 (PUBLISH) and `length` body bytes, its remaining length encoded as MQTT does. */
function packet(length: number, type = 0x30): Buffer {
  const lengthBytes: number[] = [];
  let rest = length;
  do {
    const byte = rest % 128;
    rest = Math.floor(rest / 128);
    lengthBytes.push(rest > 0 ? byte | 0x80 : byte);
  } while (rest > 0);
  return Buffer.concat([Buffer.from([type, ...lengthBytes]), Buffer.alloc(length)]);
}

/** Feeds `bytes` split into chunks of `size`; the first verdict. */
function feedInChunks(guard: ReturnType<typeof createPacketSizeGuard>, bytes: Buffer, size: number) {
  for (let i = 0; i < bytes.length; i += size) {
    const verdict = guard.feed(bytes.subarray(i, i + size));
    if (verdict) return verdict;
  }
  return null;
}

describe('packet size guard', () => {
  it('lets packets up to the limit through, in any chunking, and zero-length packets between them', () => {
    const stream = Buffer.concat([packet(100, 0x10), Buffer.from([0xc0, 0x00]), packet(0), packet(99)]);
    for (const size of [1, 2, 3, 7, stream.length]) expect(feedInChunks(createPacketSizeGuard(limits), stream, size)).toBeNull();
  });

  it('refuses a declared length over the limit as soon as its length bytes show it, before the body', () => {
    const guard = createPacketSizeGuard(limits);
    expect(guard.feed(Buffer.from([0x10]))).toBeNull();
    // 0xff alone says at least 127: already over 100, though more length bytes follow.
    expect(guard.feed(Buffer.from([0xff]))).toEqual({ kind: 'packet', bytes: 127, limit: 100, authenticated: false });
  });

  it('refuses a 256 MB CONNECT from its header', () => {
    expect(createPacketSizeGuard(limits).feed(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]))).toMatchObject({ kind: 'packet', limit: 100 });
  });

  it('allows larger packets once authenticated, up to the limit after authentication', () => {
    const guard = createPacketSizeGuard(limits);
    expect(guard.feed(packet(50, 0x10))).toBeNull();
    guard.authenticated();
    expect(guard.feed(packet(1000))).toBeNull();
    expect(feedInChunks(guard, packet(1001), 1)).toEqual({ kind: 'packet', bytes: 1001, limit: 1000, authenticated: true });
  });

  it('bounds the bytes sent in all before authentication, and not after', () => {
    const unauthenticated = createPacketSizeGuard(limits);
    const small = Buffer.concat(Array.from({ length: 5 }, () => packet(90)));
    expect(feedInChunks(unauthenticated, small, 92)).toEqual({ kind: 'unauthenticated', bytes: 460, limit: 400, authenticated: false });
    const authenticated = createPacketSizeGuard(limits);
    authenticated.authenticated();
    expect(feedInChunks(authenticated, small, 92)).toBeNull();
  });
});

// Registers and enrolls the simulated fleet through the public API, as real terminals would.
import { generateKeyPairSync } from 'node:crypto';
import type { Api } from './api.ts';
import type { DeviceSpec } from './protocol.ts';
import { mapBounded, round } from './util.ts';

export const benchModel = 'BENCH-1';
export const serialOf = (i: number): string => `B-${String(i + 1).padStart(5, '0')}`;

export async function importSerials(api: Api, count: number): Promise<{ created: number; skipped: number }> {
  const lines = ['serial,model'];
  for (let i = 0; i < count; i++) lines.push(`${serialOf(i)},${benchModel}`);
  return api.importCsv(`${lines.join('\n')}\n`);
}

/** base64 of the raw 32-byte X25519 public key: the last 32 bytes of its SPKI DER (12-byte header).
 *  Not via JWK: on Node 20.20 `export({format: 'jwk'})` of a freshly generated X25519 key can
 *  deadlock the process when a GC runs during the export (seen here after a few thousand keys). */
export function kekPublicKey(): string {
  const der = generateKeyPairSync('x25519').publicKey.export({ type: 'spki', format: 'der' });
  if (der.length !== 44) throw new Error(`unexpected X25519 SPKI length ${der.length}`);
  return der.subarray(12).toString('base64');
}

export interface EnrolledFleet {
  devices: DeviceSpec[];
  seconds: number;
  perSec: number;
}

export async function enrollFleet(api: Api, count: number, enrollToken: string, concurrency = 64): Promise<EnrolledFleet> {
  const started = performance.now();
  const devices = await mapBounded(Array.from({ length: count }, (_, i) => i), concurrency, async (i) => {
    const r = await api.enroll({ serial: serialOf(i), model: benchModel, fwVersion: '1.0.0', kekPublicKey: kekPublicKey(), enrollToken });
    return { id: r.deviceId, username: r.mqtt.username, password: r.mqtt.password };
  });
  const ms = performance.now() - started;
  return { devices, seconds: round(ms / 1000, 2), perSec: Math.round((count * 1000) / ms) };
}

export const rawFleet = (count: number): DeviceSpec[] => Array.from({ length: count }, (_, i) => ({ id: `raw-${serialOf(i)}` }));

// Signed, expiring download links: one per device and artifact, so the agent fetches with no
// further credentials and a leaked link is useless to another device or after it expires.
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface DownloadLinks {
  /** Query string `device=…&exp=…&sig=…` for an artifact and a device. */
  sign(firmwareId: string, deviceId: string, expiresAtMs: number): string;
  /** The device the link was signed for, or why it is refused. */
  verify(
    firmwareId: string,
    query: { device?: string; exp?: string; sig?: string },
    nowMs: number,
  ): { ok: true; deviceId: string } | { ok: false; reason: 'missing' | 'expired' | 'bad_signature' };
}

export function createDownloadLinks(key: Buffer): DownloadLinks {
  const mac = (fw: string, dev: string, exp: number) => createHmac('sha256', key).update(`fwlink\n${fw}\n${dev}\n${exp}`).digest();
  return {
    sign(fw, dev, exp) {
      return `device=${encodeURIComponent(dev)}&exp=${exp}&sig=${mac(fw, dev, exp).toString('base64url')}`;
    },
    verify(fw, q, now) {
      if (!q.device || !q.exp || !q.sig || !/^\d{1,15}$/.test(q.exp)) return { ok: false, reason: 'missing' };
      const exp = Number(q.exp);
      // Compared as the text sign() wrote: decoding first would take padding, '+' and '/' for
      // '-' and '_', or trailing junk, so a link altered that way would still open.
      const want = Buffer.from(mac(fw, q.device, exp).toString('base64url'));
      const got = Buffer.from(q.sig);
      if (got.length !== want.length || !timingSafeEqual(got, want)) return { ok: false, reason: 'bad_signature' };
      if (exp <= now) return { ok: false, reason: 'expired' };
      return { ok: true, deviceId: q.device };
    },
  };
}

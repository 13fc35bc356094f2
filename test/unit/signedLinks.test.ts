// Signed links (firmware downloads, log uploads) open only with the signature exactly as it was
// written: a sig with padding added, another base64 alphabet or trailing characters is refused.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkUpload, signUpload } from '../../server/faults/signedUrl.ts';
import { createDownloadLinks } from '../../server/firmware/downloadLinks.ts';
import { createSecretHasher } from '../../server/security/secretHasher.ts';

const NOW = 1_800_000_000_000;
const EXP = NOW + 60_000;

describe('firmware download links', () => {
  const links = createDownloadLinks(randomBytes(32));
  const query = (qs: string) => Object.fromEntries(new URLSearchParams(qs)) as { device: string; exp: string; sig: string };

  it('opens with the signature as signed', () => {
    expect(links.verify('fw_1', query(links.sign('fw_1', 'dev_1', EXP)), NOW)).toEqual({ ok: true, deviceId: 'dev_1' });
  });

  it('refuses the signature with padding added, in standard base64, or with trailing characters', () => {
    const q = query(links.sign('fw_1', 'dev_1', EXP));
    const standard = Buffer.from(q.sig, 'base64url').toString('base64');
    for (const sig of [`${q.sig}=`, `${q.sig}==`, standard, `${q.sig}!`, `${q.sig}.`, ` ${q.sig}`]) {
      expect(links.verify('fw_1', { ...q, sig }, NOW), sig).toEqual({ ok: false, reason: 'bad_signature' });
    }
  });
});

describe('log upload links', () => {
  const hasher = createSecretHasher(randomBytes(32));

  it('opens with the signature as signed and refuses it padded, upper-cased or extended', () => {
    const sig = signUpload(hasher, 'lb_1', EXP);
    expect(checkUpload(hasher, 'lb_1', String(EXP), sig, NOW)).toEqual({ ok: true });
    for (const bad of [`${sig}=`, sig.toUpperCase(), `${sig}0`, ` ${sig}`]) {
      expect(checkUpload(hasher, 'lb_1', String(EXP), bad, NOW), bad).toEqual({ ok: false, reason: 'bad_signature' });
    }
  });
});

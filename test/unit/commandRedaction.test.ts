// What an API answer shows of a command's payload (redactCommand): signed links without their
// signature, the card blacklist without its salt, everything else as sent.
import { describe, expect, it } from 'vitest';
import { redactCommand } from '../../schemas/commands.ts';

const SIG = 'Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWo';
const SALT = 'c2FsdC1vZi10aGUtZmxlZXQ=';
const HASH = 'a'.repeat(64);
const blacklist = { version: 3, salt: SALT, hashes: [HASH] };

describe('redactCommand', () => {
  it('hides the sig of an ota.install link and keeps the rest', () => {
    const payload = {
      firmwareId: 'fw_1',
      version: '2.0.0',
      size: 10,
      sha256: 'b'.repeat(64),
      manifest: { name: 'pos-os', version: '2.0.0', models: ['PAX-A920'], size: 10, sha256: 'b'.repeat(64) },
      signature: 'publisher-signature',
      url: `http://h/v1/firmware/fw_1/content?device=dev_1&exp=1800000000000&sig=${SIG}`,
      mode: 'forced',
    };
    const shown = redactCommand({ id: 'cmd_1', type: 'ota.install', payload });
    expect(shown.payload).toEqual({ ...payload, url: 'http://h/v1/firmware/fw_1/content?device=dev_1&exp=1800000000000&sig=[redacted]' });
  });

  it('hides the sig of a logs.upload link', () => {
    const shown = redactCommand({
      type: 'logs.upload',
      payload: { url: `http://h/v1/uploads/logs/lb_1?exp=1&sig=${'c'.repeat(64)}`, bundleId: 'lb_1' },
    });
    expect(shown.payload).toEqual({ url: 'http://h/v1/uploads/logs/lb_1?exp=1&sig=[redacted]', bundleId: 'lb_1' });
  });

  it('hides the card blacklist salt in binding.set and config.set, keeping version and hashes', () => {
    const binding = redactCommand({ type: 'binding.set', payload: { token: 'pfb1.x.y', cardBlacklist: blacklist } });
    expect(binding.payload).toEqual({ token: 'pfb1.x.y', cardBlacklist: { version: 3, salt: '[redacted]', hashes: [HASH] } });
    const config = redactCommand({ type: 'config.set', payload: { healthIntervalS: 60, cardBlacklist: blacklist } });
    expect(config.payload).toEqual({ healthIntervalS: 60, cardBlacklist: { version: 3, salt: '[redacted]', hashes: [HASH] } });
    // A blacklist its schema refuses shows nothing of itself.
    const odd = redactCommand({ type: 'config.set', payload: { cardBlacklist: { salt: SALT } } });
    expect(odd.payload).toEqual({ cardBlacklist: '[redacted]' });
  });

  it('leaves a binding.set or config.set without a blacklist as it was', () => {
    expect(redactCommand({ type: 'binding.set', payload: { token: 'pfb1.x.y' } }).payload).toEqual({ token: 'pfb1.x.y' });
    expect(redactCommand({ type: 'config.set', payload: { healthIntervalS: 60 } }).payload).toEqual({ healthIntervalS: 60 });
  });
});

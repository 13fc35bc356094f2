// A SoftHSM2 token of the bench's own, in a temp dir, for the keys scenario's PKCS#11 figure: its
// own softhsm2.conf (SOFTHSM2_CONF, so the machine's tokens are never touched), a token initialised
// with a random PIN written to a file (the server reads HSM_PIN_FILE, never the PIN itself), and
// the server settings that select the PKCS#11 vault (KEY_VAULT=pkcs11, docs/keys.md).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema } from '../../server/config.ts';

export const SOFTHSM_LIBRARY = process.env.HSM_PKCS11_LIBRARY ?? '/usr/lib/softhsm/libsofthsm2.so';
const TOKEN_LABEL = 'posfleet-bench';

export interface BenchToken {
  /** The server's environment for the PKCS#11 vault on this token. */
  env: Record<string, string>;
  remove(): Promise<void>;
}

/** Why the PKCS#11 figure cannot be measured on this machine or tree, or null when it can. */
export function pkcs11Unavailable(): string | null {
  try {
    execFileSync('softhsm2-util', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'softhsm2-util is not installed';
  }
  if (!existsSync(SOFTHSM_LIBRARY)) return `no PKCS#11 library at ${SOFTHSM_LIBRARY}`;
  // Without the setting the server would run the software vault and the figure would lie.
  if (!('KEY_VAULT' in configSchema.shape)) return 'this server has no KEY_VAULT setting (no PKCS#11 vault yet)';
  return null;
}

export async function createBenchToken(): Promise<BenchToken> {
  const dir = await mkdtemp(join(tmpdir(), 'posfleet-bench-hsm-'));
  const tokens = join(dir, 'tokens');
  await mkdir(tokens);
  const conf = join(dir, 'softhsm2.conf');
  await writeFile(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  const pin = randomBytes(12).toString('hex');
  const pinFile = join(dir, 'pin');
  await writeFile(pinFile, `${pin}\n`, { mode: 0o600 });
  const env = { ...process.env, SOFTHSM2_CONF: conf };
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', TOKEN_LABEL, '--pin', pin, '--so-pin', randomBytes(12).toString('hex')], { env, stdio: 'ignore' });
  return {
    env: { SOFTHSM2_CONF: conf, KEY_VAULT: 'pkcs11', HSM_PKCS11_LIBRARY: SOFTHSM_LIBRARY, HSM_TOKEN_LABEL: TOKEN_LABEL, HSM_PIN_FILE: pinFile },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

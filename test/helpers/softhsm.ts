// SoftHSM2 tokens for tests: one temporary token directory per test process (SOFTHSM2_CONF
// points the library at it, set before the library is first initialised), one freshly
// initialised token per call, deleted again by `dispose`. `.ci/run` installs softhsm2, so the
// PKCS#11 suites run in CI; without softhsm2-util they are skipped with a message saying why.
//
//   const hsm = createSoftToken();      // { env: { KEY_VAULT: 'pkcs11', HSM_… }, dispose() }
//   const t = await startTestServer({ env: hsm.env });
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LIBRARIES = ['/usr/lib/softhsm/libsofthsm2.so', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so', '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so'];

export const softhsmLibrary = (): string | undefined => LIBRARIES.find((l) => existsSync(l));

/** Why PKCS#11 tests cannot run here, or null when they can. */
export function softhsmMissing(): string | null {
  if (spawnSync('softhsm2-util', ['--version']).error) return 'softhsm2-util is not installed (apt-get install softhsm2; .ci/run does)';
  if (!softhsmLibrary()) return `libsofthsm2.so is in none of ${LIBRARIES.join(', ')}`;
  return null;
}

// The library reads SOFTHSM2_CONF once per process, so the directory keeps its path; it is
// removed when the last token of the process is disposed and laid again for the next one.
let root: string | undefined;
let live = 0;

function processTokenDir(): string {
  root ??= mkdtempSync(join(tmpdir(), 'posfleet-softhsm-'));
  const dir = join(root, 'tokens');
  mkdirSync(dir, { recursive: true });
  const conf = join(root, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${dir}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  process.env.SOFTHSM2_CONF = conf;
  return root;
}

export interface SoftToken {
  label: string;
  pin: string;
  library: string;
  pinFile: string;
  /** The server settings for a PKCS#11 vault on this token. */
  env: Record<string, string>;
  dispose(): void;
}

export function createSoftToken(): SoftToken {
  const missing = softhsmMissing();
  if (missing) throw new Error(missing);
  const dir = processTokenDir();
  const label = `pf-${randomBytes(6).toString('hex')}`;
  const pin = randomBytes(6).toString('hex');
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', randomBytes(6).toString('hex')], { stdio: 'pipe' });
  const pinFile = join(dir, `${label}.pin`);
  writeFileSync(pinFile, `${pin}\n`, { mode: 0o600 });
  live++;
  const library = softhsmLibrary()!;
  return {
    label,
    pin,
    library,
    pinFile,
    env: { KEY_VAULT: 'pkcs11', HSM_PKCS11_LIBRARY: library, HSM_TOKEN_LABEL: label, HSM_PIN_FILE: pinFile },
    dispose() {
      spawnSync('softhsm2-util', ['--delete-token', '--token', label], { stdio: 'pipe' });
      rmSync(pinFile, { force: true });
      if (--live === 0) rmSync(dir, { recursive: true, force: true });
    },
  };
}

// The fleet enrollment secret: ENROLL_TOKEN, else one generated once into DATA_DIR/enroll.token.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function loadEnrollToken(opts: { dataDir: string; fromEnv?: string }): { token: string; created: boolean; file?: string } {
  if (opts.fromEnv) return { token: opts.fromEnv, created: false };
  const file = join(opts.dataDir, 'enroll.token');
  if (existsSync(file)) return { token: readFileSync(file, 'utf8').trim(), created: false, file };
  mkdirSync(opts.dataDir, { recursive: true });
  const token = `et_${randomBytes(24).toString('base64url')}`;
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return { token, created: true, file };
}

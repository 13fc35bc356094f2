// A small sample firmware image for the demo rollout, and the version it carries: one patch
// above the newest version the demo fleet runs, so each rollout is a real update.
import { randomBytes } from 'node:crypto';

const SEMVER = /^(\d+)\.(\d+)\.(\d+)$/;

/** Pure: the next patch version above every plain x.y.z version given (1.0.1 when there is none). */
export function nextDemoVersion(running: readonly string[]): string {
  const parsed = running
    .map((v) => SEMVER.exec(v))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [Number(m[1]), Number(m[2]), Number(m[3])] as const)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
  const top = parsed.at(-1) ?? [1, 0, 0];
  return `${top[0]}.${top[1]}.${top[2] + 1}`;
}

/** 64 KiB: a header naming the version, then random bytes (a distinct sha256 every time). */
export function sampleImage(version: string): Buffer {
  const header = Buffer.from(`posfleet demo image ${version}\n`, 'utf8');
  return Buffer.concat([header, randomBytes(64 * 1024 - header.length)]);
}

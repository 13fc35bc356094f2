// Enrollment (SPEC §2): trade the fleet enrollment token for per-device MQTT credentials, once.
import { enrollAnswer, type EnrollRequest } from '../schemas/enrollment.ts';
import { apiError, type Enrollment } from './schemas.ts';
import type { StateStore } from './stateStore.ts';
import { httpSend } from './http.ts';

export class EnrollError extends Error {
  constructor(
    /** Server error code (`not_registered`, `already_enrolled`, `unauthorized`…) or a local one
     * (`network`, `bad_response`). */
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'EnrollError';
  }
}

/** Where and as what to enroll: the request's fields the agent knows before it has a KEK. */
export interface EnrollOptions extends Omit<EnrollRequest, 'kekPublicKey'> {
  server: string;
  ca?: string | Buffer;
  timeoutMs?: number;
}

const hints: Record<string, string> = {
  not_registered: 'the serial is not pre-registered; import it first (POST /v1/devices or /v1/devices/import)',
  already_enrolled: 'the serial is already enrolled; an operator must reset it (POST /v1/devices/{id}/reset-enrollment)',
  '401': 'check the fleet enrollment token',
};

export async function enroll(req: EnrollOptions, kekPublicKey: string): Promise<Enrollment> {
  const url = new URL('/v1/enroll', req.server).toString();
  const request: EnrollRequest = { serial: req.serial, model: req.model, fwVersion: req.fwVersion, kekPublicKey, enrollToken: req.enrollToken };
  const body = JSON.stringify(request);
  let res;
  try {
    res = await httpSend({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json' },
      body,
      ...(req.ca ? { ca: req.ca } : {}),
      timeoutMs: req.timeoutMs ?? 15_000,
    });
  } catch (err) {
    throw new EnrollError('network', 0, `cannot reach ${url}: ${(err as Error).message}`);
  }
  const json = safeJson(res.body);
  if (res.status !== 201 && res.status !== 200) {
    const e = apiError.safeParse(json);
    const code = e.success ? e.data.error.code : res.status === 401 ? 'unauthorized' : `http_${res.status}`;
    const msg = (e.success && e.data.error.message) || `enrollment refused (HTTP ${res.status})`;
    const hint = hints[code] ?? hints[String(res.status)];
    throw new EnrollError(code, res.status, `${code}: ${msg}${hint ? ` (${hint})` : ''}`);
  }
  const ok = enrollAnswer.safeParse(json);
  if (!ok.success) throw new EnrollError('bad_response', res.status, 'enrollment answer does not match the contract');
  return { ...ok.data, serial: req.serial, model: req.model, server: req.server, enrolledAt: Date.now() };
}

/** Reuses stored credentials; enrolls only when the state dir has none (enrollment is one-shot). */
export async function ensureEnrolled(store: StateStore, req: EnrollOptions): Promise<{ enrollment: Enrollment; fresh: boolean }> {
  const existing = store.loadEnrollment();
  if (existing) return { enrollment: existing, fresh: false };
  const kek = store.loadOrCreateKek();
  const enrollment = await enroll(req, kek.publicKey);
  store.saveEnrollment(enrollment);
  return { enrollment, fresh: true };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// The audit log and the enrollment rate limit name the client, not the load balancer in front
// of the server, but only when the balancer is trusted (TRUSTED_PROXIES).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../server/config.ts';
import { startTestServer, type TestServer } from '../helpers/testServer.ts';

interface AuditPage {
  items: { action: string; ip: string | null; target: string | null }[];
}

async function createdUserIp(t: TestServer, name: string, forwardedFor: string): Promise<string | null> {
  const created = await t.api<{ id: string }>('POST', '/v1/users', { name, role: 'operator' }, { headers: { 'x-forwarded-for': forwardedFor } });
  expect(created.status).toBe(201);
  const audit = await t.api<AuditPage>('GET', '/v1/audit?action=user.create&limit=50');
  return audit.body.items.find((e) => e.target === created.body.id)?.ip ?? null;
}

describe('client address behind a proxy', () => {
  let behindProxy: TestServer;
  let direct: TestServer;
  beforeAll(async () => {
    [behindProxy, direct] = await Promise.all([startTestServer({ env: { TRUSTED_PROXIES: '127.0.0.1/32, ::1' } }), startTestServer()]);
  });
  afterAll(async () => {
    await Promise.all([behindProxy?.stop(), direct?.stop()]);
  });

  it('records the forwarded client when the peer is a trusted proxy', async () => {
    expect(await createdUserIp(behindProxy, 'via-proxy', '6.6.6.6, 198.51.100.23')).toBe('198.51.100.23');
  });

  it('records the peer and ignores the header when no proxy is trusted', async () => {
    expect(await createdUserIp(direct, 'direct', '198.51.100.23')).toBe('127.0.0.1');
  });

  it('refuses a setting that is not a list of addresses or CIDR blocks', () => {
    const parsed = configSchema.safeParse({ TRUSTED_PROXIES: '10.0.0.0/8,lb.internal' });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['TRUSTED_PROXIES']);
  });
});

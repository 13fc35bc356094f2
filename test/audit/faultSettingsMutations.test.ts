// Issue #16, fault settings: replacing the rule set and changing the webhook notifier commit with
// their audit entries or not at all, and the server keeps using the settings it had. The
// database refuses the entry (refuseAudit.ts).
import { eq } from 'drizzle-orm';
import { afterEach, expect, it } from 'vitest';
import { faultSettings } from '../../schemas/tables/faults.ts';
import { forEachServer } from '../helpers/testServer.ts';
import { refuseAuditOf } from './refuseAudit.ts';

interface RuleSet { rules: { code: string }[]; source: string }
interface NotifierView { url: string | null; secretSet: boolean }

forEachServer('fault settings and their audit entries', (server) => {
  let lift: (() => Promise<void>) | undefined;
  const refuse = async (action: string) => {
    lift = await refuseAuditOf(server().server.parts.db, action);
  };
  const chainOk = async () => (await server().api<{ ok: boolean }>('GET', '/v1/audit/verify')).body.ok;
  const stored = async (key: 'rules' | 'notifier') => (await server().server.parts.db.select().from(faultSettings).where(eq(faultSettings.key, key))).length;

  afterEach(async () => {
    await lift?.();
    lift = undefined;
  });

  it('a rule set whose audit entry is refused is neither stored nor applied', async () => {
    const before = (await server().api<RuleSet>('GET', '/v1/fault-rules')).body;
    const one = before.rules.slice(0, 1);
    await refuse('fault_rules.update');
    expect((await server().api('PUT', '/v1/fault-rules', { rules: one })).status).toBe(500);
    expect((await server().api<RuleSet>('GET', '/v1/fault-rules')).body).toEqual(before);
    expect(await stored('rules')).toBe(0);
    expect(await chainOk()).toBe(true);

    await lift!();
    expect((await server().api<RuleSet>('PUT', '/v1/fault-rules', { rules: one })).body.rules).toEqual(one);
  });

  it('a notifier change whose audit entry is refused is neither stored nor used', async () => {
    const before = (await server().api<NotifierView>('GET', '/v1/fault-notifier')).body;
    await refuse('fault_notifier.update');
    expect((await server().api('PUT', '/v1/fault-notifier', { url: 'http://127.0.0.1:9/hook', minSeverity: 'major' })).status).toBe(500);
    expect((await server().api<NotifierView>('GET', '/v1/fault-notifier')).body).toEqual(before);
    expect(await stored('notifier')).toBe(0);
    expect(await chainOk()).toBe(true);
  });
});

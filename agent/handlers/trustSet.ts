// trust.set: the server hands newer publisher keys and broker URLs. Only the server can publish
// on the terminal's command topic (broker ACL), over the connection it authenticated with the
// credentials from enrollment: the same authority that answered the enrollment pinned the first
// lists (docs/ota.md "Publisher trust"). The enrollment file keeps them, so an OTA install and
// the next connection read the new ones.
import { CommandError, type CommandHandler } from '../dispatcher.ts';
import { applyTrust, trustReportOf } from '../trust.ts';
import type { HandlerEnv } from './env.ts';

export const trustSetHandler =
  (env: HandlerEnv): CommandHandler<'trust.set'> =>
  async ({ payload }) => {
    const enrollment = env.store.loadEnrollment();
    if (!enrollment) throw new CommandError('not_enrolled', 'the terminal has no enrollment to update', 'failed');
    const next = applyTrust(enrollment, payload);
    env.store.saveEnrollment(next);
    env.trustChanged?.(next);
    return { applied: Object.keys(payload), ...trustReportOf(next) };
  };

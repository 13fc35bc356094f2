// Key blocks ride in keys.install payloads; no API answer may carry them (SPEC §5: no key
// material, wrapped or clear). The command routes show key commands through this.
import { keysInstallPayload } from '../../schemas/keys.ts';

export function redactKeyCommand<T extends { type: string; payload: unknown }>(cmd: T): T {
  if (cmd.type !== 'keys.install') return cmd;
  const p = keysInstallPayload.safeParse(cmd.payload);
  const payload = p.success
    ? { ...p.data, items: p.data.items.map(({ block: _block, ...rest }) => ({ ...rest, block: '[redacted]' })) }
    : { redacted: true };
  return { ...cmd, payload };
}

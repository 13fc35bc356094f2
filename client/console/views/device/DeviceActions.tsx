/** @jsxImportSource preact */
// The device page's actions (diagnostics, logs, reboot, lock or unlock), each behind a confirmation;
// the lock asks for a reason when this build has the lock route (the dialog does not submit without it).
import { z } from 'zod';
import { command } from '../../../../server/commands/commandSchemas.ts';
import { has, isRole, api } from '../../session.ts';
import type { ViewContext } from '../../viewContract.ts';
import type { BindingState, DeviceDetail } from './deviceData.ts';

const anyAnswer = z.unknown();

interface ActionSpec {
  label: string;
  title: string;
  body: string;
  confirmLabel: string;
  danger?: boolean;
  disabled: boolean;
  reasonLabel?: string;
  doIt(reason: string): Promise<unknown>;
}

/** The confirmation's body: the text, and the required reason field when one is asked for. */
function dialogBody(body: string, reasonId: string, reasonLabel: string | undefined): { node: string | Node; reason(): string } {
  if (!reasonLabel) return { node: body, reason: () => '' };
  const box = document.createElement('div');
  box.className = 'form-stack';
  const text = document.createElement('p');
  text.textContent = body;
  const label = document.createElement('label');
  label.htmlFor = reasonId;
  label.textContent = reasonLabel;
  const area = document.createElement('textarea');
  Object.assign(area, { id: reasonId, rows: 2, maxLength: 500, required: true });
  box.append(text, label, area);
  return { node: box, reason: () => area.value.trim() };
}

export function DeviceActions(props: {
  ctx: ViewContext;
  id: string;
  device: DeviceDetail | null;
  binding: BindingState | null;
  onRequested(): void;
  onLockChanged(): void;
}) {
  const { ctx, id, device, binding } = props;
  const enc = encodeURIComponent(id);
  const who = device ? `terminal ${device.serial}` : `device ${id}`;
  const offlineNote =
    !device || device.online
      ? ''
      : device.lastSeenAt
        ? ' The terminal is offline: the command waits until it reconnects.'
        : ' The terminal has not connected yet: the command waits until it does.';
  const canAct = isRole('admin', 'operator', 'technician');
  const lockRoute = has('POST /v1/devices/{id}/lock');
  const sendCommand = (type: string) => api.call(command, 'POST', `/v1/devices/${enc}/commands`, { body: { type } });
  const post = (path: string, body: object) => api.call(anyAnswer, 'POST', path, { body });
  const lockChanged = () => setTimeout(props.onLockChanged, 300);

  const run = async (spec: ActionSpec) => {
    const dialog = dialogBody(spec.body, `action-reason-${id}`, spec.reasonLabel);
    const ok = await ctx.confirm({ title: spec.title, body: dialog.node, confirmLabel: spec.confirmLabel, danger: spec.danger });
    if (!ok) return;
    try {
      await spec.doIt(dialog.reason());
      ctx.toast(`${spec.label}: requested.`, 'success');
      ctx.announce(`${spec.label} requested for terminal ${device?.serial ?? id}.`);
      props.onRequested();
    } catch (err) {
      ctx.toast(`${spec.label} failed: ${err instanceof Error ? err.message : String(err)}`, 'error');
    }
  };

  const specs: ActionSpec[] = [
    {
      label: 'Run diagnostics',
      title: 'Run diagnostics?',
      body: `Run the printer, card reader, storage and network self-tests on ${who}.${offlineNote}`,
      confirmLabel: 'Run diagnostics',
      disabled: !canAct,
      doIt: () => (has('POST /v1/devices/{id}/diagnostics') ? post(`/v1/devices/${enc}/diagnostics`, {}) : sendCommand('diag.run')),
    },
    {
      label: 'Upload logs',
      title: 'Upload logs?',
      body: `Ask ${who} to upload its log bundle.${offlineNote}`,
      confirmLabel: 'Request logs',
      disabled: !canAct,
      doIt: () => (has('POST /v1/devices/{id}/logs') ? post(`/v1/devices/${enc}/logs`, {}) : sendCommand('logs.upload')),
    },
    {
      label: 'Reboot',
      title: 'Reboot the terminal?',
      body: `Reboot ${who}. A payment in progress is finished first; the terminal is unavailable for about a minute.${offlineNote}`,
      confirmLabel: 'Reboot',
      danger: true,
      disabled: !canAct,
      doIt: () => sendCommand('reboot'),
    },
    binding?.lock.locked
      ? {
          label: 'Unlock',
          title: 'Unlock the terminal?',
          body: `Release the operator lock on ${who}. Locks for other reasons (suspension, relocation, limits) stay.${offlineNote}`,
          confirmLabel: 'Unlock',
          disabled: !isRole('admin', 'operator'),
          doIt: () => (lockRoute ? post(`/v1/devices/${enc}/unlock`, { reason: 'operator' }) : sendCommand('unlock')).then(lockChanged),
        }
      : {
          label: 'Lock',
          title: 'Lock the terminal?',
          body: `Lock ${who}: it stays connected and manageable but refuses every transaction until unlocked.${offlineNote}`,
          confirmLabel: 'Lock terminal',
          danger: true,
          disabled: !canAct,
          reasonLabel: lockRoute ? 'Reason for the lock' : undefined,
          doIt: (note) =>
            (lockRoute ? post(`/v1/devices/${enc}/lock`, { reason: 'operator', note: note || undefined }) : sendCommand('lock')).then(
              lockChanged,
            ),
        },
  ];

  return (
    <div class="actions" role="group" aria-label="Device actions">
      {specs.map((spec) => (
        <button
          type="button"
          class={`btn ${spec.danger ? 'btn-danger-outline' : ''}`}
          disabled={spec.disabled}
          onClick={() => void run(spec)}
        >
          {spec.label}
        </button>
      ))}
    </div>
  );
}

/** @jsxImportSource preact */
// Bind a terminal to this merchant by its serial and a TID: an unbound terminal is bound at once
// (PUT /v1/devices/{id}/binding); one bound elsewhere is refused (409 binding_locked) and needs a
// re-binding request with a reason, which another admin approves (maker-checker).
import { useState } from 'preact/hooks';
import { device } from '../../../../server/devices/deviceRoutes.ts';
import { page as pageOf } from '../../../../server/http/schemas.ts';
import { boundOut, rebindOut } from '../../../../server/merchants/apiSchemas.ts';
import { api } from '../../session.ts';
import { ErrorBox, Field } from '../../ui.tsx';
import type { ViewContext } from '../../viewContract.ts';

const devicePage = pageOf(device);

/** The terminal of exactly this serial (the list's q also matches ids and models, and parts of them). */
async function terminalBySerial(serial: string) {
  const found = (await api.call(devicePage, 'GET', '/v1/devices', { query: { q: serial, limit: 50 } })).items.find(
    (d) => d.serial === serial,
  );
  if (!found) throw new Error(`no terminal has the serial ${serial}`);
  return found;
}

export function BindTerminalForm({ ctx, merchantId, onBound }: { ctx: ViewContext; merchantId: string; onBound(): void }) {
  const [serial, setSerial] = useState('');
  const [tid, setTid] = useState('');
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const run = async (mode: 'bind' | 'rebind') => {
    setError(null);
    setBusy(true);
    try {
      const d = await terminalBySerial(serial.trim());
      const id = encodeURIComponent(d.id);
      if (mode === 'bind') {
        await api.call(boundOut, 'PUT', `/v1/devices/${id}/binding`, { body: { merchantId, tid: tid.trim() } });
        ctx.toast(`${d.serial} is bound as TID ${tid.trim()}`, 'success');
        ctx.announce(`${d.serial} is bound`);
      } else {
        await api.call(rebindOut, 'POST', `/v1/devices/${id}/rebind-requests`, {
          body: { merchantId, tid: tid.trim(), reason: reason.trim() },
        });
        ctx.toast(`Re-binding of ${d.serial} filed; another admin approves it`, 'success');
        ctx.announce(`Re-binding of ${d.serial} filed`);
      }
      setSerial('');
      setTid('');
      setReason('');
      onBound();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const text = (id: string, label: string, value: string, onValue: (v: string) => void, placeholder?: string) => (
    <Field label={label} id={id}>
      <input
        id={id}
        type="text"
        value={value}
        placeholder={placeholder}
        autocomplete="off"
        onInput={(e) => onValue(e.currentTarget.value)}
      />
    </Field>
  );

  return (
    <form
      class="card form-grid"
      aria-labelledby="bind-title"
      onSubmit={(e) => {
        e.preventDefault();
        void run('bind');
      }}
    >
      <h3 id="bind-title">Bind a terminal</h3>
      <p class="muted">
        An unbound terminal is bound at once. A terminal bound to another merchant needs a re-binding request with a reason; another admin
        approves it.
      </p>
      {text('bt-serial', 'Terminal serial', serial, setSerial)}
      {text('bt-tid', 'TID', tid, setTid, '8 upper-case letters or digits')}
      {text('bt-reason', 'Reason (re-binding only)', reason, setReason)}
      {error ? <ErrorBox error={error} /> : null}
      <div class="actions">
        <button type="submit" class="btn btn-primary" disabled={busy}>
          Bind
        </button>
        <button type="button" class="btn" disabled={busy} onClick={() => run('rebind')}>
          Request re-binding
        </button>
      </div>
    </form>
  );
}

/** @jsxImportSource preact */
// "Verify chain": the server recomputes every entry's hash from the first (docs/audit.md) and
// answers whether the chain holds; a break names the first entry that does not.
import { useState } from 'preact/hooks';
import { z } from 'zod';
import { AuditVerifySchema } from '../../../../server/audit/routes.ts';
import { api } from '../../session.ts';
import { ErrorBox, fmtNumber } from '../../ui.tsx';

type Verdict = z.infer<typeof AuditVerifySchema>;

export function VerifyChain() {
  const [busy, setBusy] = useState(false);
  const [verdict, setVerdict] = useState<Verdict | null>(null);
  const [error, setError] = useState<unknown>(null);

  const verify = async () => {
    setBusy(true);
    setError(null);
    try {
      setVerdict(await api.call(AuditVerifySchema, 'GET', '/v1/audit/verify'));
    } catch (err) {
      setVerdict(null);
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card verify-chain" aria-labelledby="verify-title">
      <h2 id="verify-title">Hash chain</h2>
      <p class="muted">Each entry commits to the one before it; a changed, inserted or deleted entry breaks the chain from there on.</p>
      <div class="actions">
        <button type="button" class="btn btn-primary" disabled={busy} onClick={verify}>
          {busy ? 'Verifying…' : 'Verify chain'}
        </button>
      </div>
      <div aria-live="polite">
        {error ? <ErrorBox error={error} /> : null}
        {verdict ? (
          <p class={verdict.ok ? 'note verdict' : 'form-error verdict'} data-verdict={verdict.ok ? 'holds' : 'broken'}>
            {verdict.ok
              ? `The chain holds: ${fmtNumber(verdict.checked)} entries checked.`
              : `The chain is broken at entry #${verdict.firstBadSeq ?? '?'} (${fmtNumber(verdict.checked)} entries examined). Entries from there on cannot be trusted; see docs/audit.md.`}
          </p>
        ) : null}
      </div>
    </section>
  );
}

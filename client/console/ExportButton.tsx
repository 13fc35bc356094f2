/** @jsxImportSource preact */
// Downloads one of the server's streamed exports (docs/exports.md) as CSV with the filters the
// page shows. Fetched with the session's token (a plain link cannot send it) and saved through a
// blob link; the server streams the rows, the browser holds the finished file only.
import { useState } from 'preact/hooks';
import { ApiError, type Query } from '../apiClient.ts';
import { api } from './session.ts';

export function ExportButton({ path, query, fileName }: { path: string; query: Query; fileName: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function download() {
    setBusy(true);
    setError(null);
    try {
      const res = await api.raw('GET', path, { query: { ...query, format: 'csv' }, headers: { accept: 'text/csv' } });
      const url = URL.createObjectURL(await res.blob());
      const a = Object.assign(document.createElement('a'), { href: url, download: fileName });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (err) {
      setError(err instanceof ApiError ? `${err.code}: ${err.message}` : String(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <span class="export-action">
      <button type="button" class="btn btn-small" disabled={busy} onClick={() => void download()}>
        {busy ? 'Exporting…' : 'Export CSV'}
      </button>
      {error ? (
        <span role="alert" class="error-text">
          {error}
        </span>
      ) : null}
    </span>
  );
}

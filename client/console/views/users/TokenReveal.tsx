/** @jsxImportSource preact */
// A token the server has just issued: shown once, here, with a copy button. The server keeps only
// its hash, so this page cannot show it again; leaving it says so before the token is lost.
import { useRef, useState } from 'preact/hooks';

async function copyText(text: string, field: HTMLInputElement | null): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No clipboard permission (an older browser, a locked-down profile): select it for Ctrl+C.
    field?.select();
    return false;
  }
}

export function TokenReveal({ token, owner, onDismiss }: { token: string; owner: string; onDismiss(): void }) {
  const [copied, setCopied] = useState<boolean | null>(null);
  const field = useRef<HTMLInputElement>(null);
  return (
    <div class="card token-reveal" role="region" aria-label={`New token for ${owner}`}>
      <h3>New API token for {owner}</h3>
      <p class="warn" role="alert">
        Copy it now: it is shown only this once. The server keeps only a hash of it and cannot show it again.
      </p>
      <div class="row-actions">
        <input
          class="token-value"
          readOnly
          value={token}
          size={Math.min(token.length, 60)}
          aria-label="The new token"
          ref={field}
          onFocus={(e) => e.currentTarget.select()}
        />
        <button type="button" class="btn btn-primary" onClick={async () => setCopied(await copyText(token, field.current))}>
          Copy
        </button>
        <button type="button" class="btn" onClick={onDismiss}>
          I have copied it
        </button>
      </div>
      <p class="hint" aria-live="polite">
        {copied === true ? 'Copied to the clipboard.' : copied === false ? 'Could not copy: the token is selected, press Ctrl+C.' : ''}
      </p>
    </div>
  );
}

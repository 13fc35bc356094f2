// Reads the server's live stream (/v1/stream, server-sent events) in the background, as a test
// subscriber: every event's name and JSON data, in order of arrival. The token is the test
// server's admin token unless given (a cluster has its own).
import { TEST_ADMIN_TOKEN } from './testServer.ts';

export interface LiveEvent {
  event: string;
  data: Record<string, unknown>;
}

export interface LiveStream {
  events: LiveEvent[];
  /** Resolves on the stream's `hello` (the subscription is in place), or when it could not open. */
  ready: Promise<void>;
  /** HTTP status of the stream request (0 until it answered). */
  status(): number;
  close(): void;
}

export function openLiveStream(url: string, query = '', token = TEST_ADMIN_TOKEN): LiveStream {
  const events: LiveEvent[] = [];
  const abort = new AbortController();
  let status = 0;
  let hello: (() => void) | undefined;
  const ready = new Promise<void>((r) => (hello = r));
  void (async () => {
    const res = await fetch(`${url}/v1/stream${query}`, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
    status = res.status;
    if (!res.ok || !res.body) return hello?.();
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += decoder.decode(value, { stream: true });
      let at: number;
      while ((at = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, at);
        buf = buf.slice(at + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event === 'hello') hello?.();
        else if (event && data) events.push({ event, data: JSON.parse(data) as Record<string, unknown> });
      }
    }
  })().catch(() => hello?.());
  return { events, ready, status: () => status, close: () => abort.abort() };
}

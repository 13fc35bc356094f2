// The live stream (GET /v1/stream, server-sent events) of one instance, read in the background
// with the cluster's admin token: every event's name and JSON data, in order of arrival.
import type { LiveEvent, LiveStream } from '../../helpers/liveStream.ts';

export function openStream(baseUrl: string, token: string, query = ''): LiveStream {
  const events: LiveEvent[] = [];
  const abort = new AbortController();
  let status = 0;
  let hello: (() => void) | undefined;
  const ready = new Promise<void>((r) => (hello = r));
  void (async () => {
    const res = await fetch(`${baseUrl}/v1/stream${query}`, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
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

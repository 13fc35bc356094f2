// Live events from GET /v1/stream. EventSource cannot send an Authorization header, so the stream
// is read with fetch and a stream reader (not the API client: this answer is never parsed whole and
// must be abortable), parsed as Server-Sent Events, and reopened with exponential backoff and
// jitter whenever it breaks or goes silent. After a reconnect, `stream.resumed` tells pages to
// reload what they may have missed.

const SILENCE_MS = 40_000; // the server sends a keep-alive every 15 s

export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'unauthorized' | 'closed';

export interface StreamOptions {
  token: string;
  onEvent(name: string, data: Record<string, unknown>): void;
  onStatus(state: StreamState): void;
  /** Only these events. */
  types?: string[];
  /** Device ids whose health samples come as `device.health`. */
  health?: string[];
}

/** One SSE frame (the text between blank lines) → its event name and data, or null (a comment). */
export function parseSseFrame(frame: string): { event: string; data: string } | null {
  let event = 'message';
  const data: string[] = [];
  let any = false;
  for (const line of frame.split(/\r?\n/)) {
    if (!line || line.startsWith(':')) continue;
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    let value = i < 0 ? '' : line.slice(i + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else continue;
    any = true;
  }
  return any ? { event, data: data.join('\n') } : null;
}

function payload(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return { ...parsed };
    return { value: parsed };
  } catch {
    return { text };
  }
}

export function openStream({ token, onEvent, onStatus, types, health }: StreamOptions): { close(): void } {
  let stopped = false;
  let controller: AbortController | null = null;
  let attempt = 0;
  let everConnected = false;

  const params = new URLSearchParams();
  if (types?.length) params.set('types', types.join(','));
  if (health?.length) params.set('health', health.join(','));
  const path = params.size ? `/v1/stream?${params}` : '/v1/stream';

  async function once(): Promise<'unauthorized' | 'ended' | 'closed' | 'error'> {
    const ctrl = new AbortController();
    controller = ctrl;
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const feed = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => ctrl.abort(), SILENCE_MS);
    };
    try {
      feed();
      const res = await fetch(path, {
        headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
        cache: 'no-store',
        signal: ctrl.signal,
      });
      if (res.status === 401 || res.status === 403) return 'unauthorized';
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      let first = true;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        feed();
        buf += value;
        let sep: RegExpExecArray | null;
        while ((sep = /\r?\n\r?\n/.exec(buf))) {
          const frame = buf.slice(0, sep.index);
          buf = buf.slice(sep.index + sep[0].length);
          const ev = parseSseFrame(frame);
          if (!ev) continue;
          if (first) {
            first = false;
            attempt = 0;
            onStatus('live');
            if (everConnected) onEvent('stream.resumed', {});
            everConnected = true;
          }
          if (ev.event === 'hello') continue;
          try {
            onEvent(ev.event, payload(ev.data));
          } catch (err) {
            console.error('live event handler failed', ev.event, err);
          }
        }
      }
      return 'ended';
    } catch {
      return stopped ? 'closed' : 'error';
    } finally {
      clearTimeout(watchdog);
    }
  }

  void (async () => {
    onStatus('connecting');
    while (!stopped) {
      const outcome = await once();
      if (stopped) break;
      if (outcome === 'unauthorized') {
        onStatus('unauthorized');
        return;
      }
      onStatus('reconnecting');
      attempt += 1;
      const delay = Math.min(30_000, 500 * 2 ** Math.min(attempt, 6));
      await new Promise((r) => setTimeout(r, delay / 2 + Math.random() * (delay / 2)));
    }
    onStatus('closed');
  })();

  return {
    close() {
      stopped = true;
      controller?.abort();
    },
  };
}

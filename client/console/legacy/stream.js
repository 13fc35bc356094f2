// Live events from GET /v1/stream. EventSource cannot send an Authorization header, so the
// stream is read with fetch and a ReadableStream reader, parsed as Server-Sent Events, and
// reopened with exponential backoff (and jitter) whenever it breaks or goes silent.

const SILENCE_MS = 40_000; // the server sends a keep-alive every 15 s

/**
 * openStream({token, onEvent(name, data), onStatus(state), types?, health?}) → {close()}
 * `types`: only these events; `health`: device ids whose samples come as `device.health`.
 * states: 'connecting' | 'live' | 'reconnecting' | 'unauthorized' | 'closed'
 */
export function openStream({ token, onEvent, onStatus, types, health }) {
  let stopped = false;
  let controller = null;
  let attempt = 0;
  let everConnected = false;

  const params = new URLSearchParams();
  if (types?.length) params.set('types', types.join(','));
  if (health?.length) params.set('health', health.join(','));
  const path = params.size ? `/v1/stream?${params}` : '/v1/stream';

  async function once() {
    controller = new AbortController();
    const ctrl = controller;
    let watchdog = null;
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
        let sep;
        while ((sep = /\r?\n\r?\n/.exec(buf))) {
          const frame = buf.slice(0, sep.index);
          buf = buf.slice(sep.index + sep[0].length);
          const ev = parseFrame(frame);
          if (!ev) continue;
          if (first) {
            first = false;
            attempt = 0;
            onStatus('live');
            // Events may have been missed while away: views reload what they show.
            if (everConnected) onEvent('stream.resumed', {});
            everConnected = true;
          }
          if (ev.event === 'hello') continue;
          let data = ev.data;
          try {
            data = JSON.parse(ev.data);
          } catch {
            /* keep text */
          }
          try {
            onEvent(ev.event, data);
          } catch (err) {
            console.error('live event handler failed', ev.event, err);
          }
        }
      }
      return 'ended';
    } catch (err) {
      return stopped ? 'closed' : 'error';
    } finally {
      clearTimeout(watchdog);
    }
  }

  (async () => {
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

function parseFrame(frame) {
  let event = 'message';
  const data = [];
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

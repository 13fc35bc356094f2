/** @jsxImportSource preact */
// "Health over time": the TypeScript charts (history, then live samples) mounted into the page, fed
// by a stream of this terminal's health samples only (the server publishes a device's samples only
// while someone watches it); the history poll stays as a fallback.
import { useEffect, useId, useRef } from 'preact/hooks';
import { createHealthCharts } from '../../charts/deviceHealthCharts.ts';
import { tokenStore } from '../../session.ts';
import { openStream, type StreamState } from '../../stream.ts';

const liveText: Record<StreamState, string> = {
  connecting: 'Connecting live updates…',
  live: 'Live',
  reconnecting: 'Live updates paused, reconnecting…',
  closed: 'Not live',
  unauthorized: 'Not live',
};

const HISTORY_POLL_MS = 5 * 60_000;

export function HealthChartsSection({ deviceId, onSample }: { deviceId: string; onSample(): void }) {
  const host = useRef<HTMLElement>(null);
  const headingId = useId();
  const latestOnSample = useRef(onSample);
  latestOnSample.current = onSample;

  useEffect(() => {
    let stopped = false;
    const charts = createHealthCharts({ deviceId, isStopped: () => stopped });
    host.current?.append(charts.tools, charts.box);
    void charts.load();
    const token = tokenStore.get();
    const stream = token
      ? openStream({
          token,
          types: ['device.health'],
          health: [deviceId],
          onStatus: (state) => {
            charts.live.dataset.state = state;
            charts.live.textContent = liveText[state];
          },
          onEvent: (name, data) => {
            if (stopped) return;
            if (name === 'stream.resumed') void charts.load();
            else if (name === 'device.health' && data.deviceId === deviceId) {
              charts.addLivePoint(data);
              latestOnSample.current();
            }
          },
        })
      : null;
    const poll = setInterval(() => !document.hidden && void charts.load(), HISTORY_POLL_MS);
    return () => {
      stopped = true;
      stream?.close();
      clearInterval(poll);
      charts.destroy();
    };
  }, [deviceId]);

  return (
    // The charts' own nodes go after the heading; Preact manages the heading alone.
    <section class="card" aria-labelledby={headingId} ref={host}>
      <h2 id={headingId}>Health over time</h2>
    </section>
  );
}

/** @jsxImportSource preact */
// The device page's fact cards: identity, merchant binding and lock, latest health, and the badges
// above them. Same markup as the console's other definition lists (dl.facts).
import type { ComponentChildren } from 'preact';
import { fmtDate, OnlineBadge, StateBadge, Time } from '../../ui.tsx';
import { relocationText, type BindingState, type DeviceDetail, type Fault } from './deviceData.ts';

type Fact = [string, ComponentChildren] | null;

export function Facts({ pairs }: { pairs: Fact[] }) {
  return (
    <dl class="facts">
      {pairs.map((pair) =>
        pair ? [<dt>{pair[0]}</dt>, <dd>{pair[1] === null || pair[1] === undefined || pair[1] === '' ? '—' : pair[1]}</dd>] : null,
      )}
    </dl>
  );
}

export function Identity({ device }: { device: DeviceDetail }) {
  const labels = Object.entries(device.labels ?? {});
  return (
    <Facts
      pairs={[
        ['Serial', device.serial],
        ['Device id', <code>{device.id}</code>],
        ['Model', device.model],
        ['Status', <StateBadge state={device.status} />],
        ['Firmware', `${device.reportedFwVersion ?? device.fwVersion ?? '—'}${device.slot ? ` (slot ${device.slot})` : ''}`],
        ['Enrolled', device.enrolledAt ? fmtDate(device.enrolledAt) : 'not enrolled'],
        labels.length ? ['Labels', labels.map(([k, v]) => `${k}=${v}`).join(', ')] : null,
      ]}
    />
  );
}

export function HealthFacts({ device }: { device: DeviceDetail }) {
  const hs = device.health;
  if (!hs) return <p class="muted">No health sample received yet.</p>;
  const reader = hs.cardReader
    ? Object.entries(hs.cardReader)
        .map(([k, v]) => `${k.toUpperCase()} ${v}`)
        .join(', ')
    : null;
  const storage = hs.storage
    ? `${Math.round(hs.storage.freeMb)} MB free of ${Math.round(hs.storage.totalMb)} MB (${Math.round((hs.storage.freeMb / hs.storage.totalMb) * 100)}%)`
    : null;
  const loc = hs.location;
  return (
    <Facts
      pairs={[
        ['Sampled', <Time iso={new Date(hs.ts).toISOString()} />],
        hs.battery ? ['Battery', `${Math.round(hs.battery.level)}%${hs.battery.charging ? ', charging' : ''}`] : null,
        hs.temperatureC !== undefined ? ['Temperature', `${hs.temperatureC} °C`] : null,
        hs.signal ? ['Signal', `${hs.signal.rssi} dBm (${hs.signal.type})`] : null,
        hs.printer ? ['Printer', hs.printer.status.replace(/_/g, ' ')] : null,
        reader ? ['Card readers', reader] : null,
        storage ? ['Storage', storage] : null,
        hs.memory ? ['Free memory', `${Math.round(hs.memory.freeMb)} MB`] : null,
        hs.tamper !== undefined ? ['Tamper', hs.tamper ? 'TAMPER DETECTED' : 'no'] : null,
        hs.uptimeS !== undefined ? ['Uptime', `${Math.round(hs.uptimeS / 3600)} h`] : null,
        loc ? ['Location', `${loc.lat.toFixed(5)}, ${loc.lon.toFixed(5)} (±${Math.round(loc.accuracyM)} m, ${loc.source})`] : null,
        ['Last heard', <Time iso={device.lastSeenAt} />],
      ]}
    />
  );
}

export function BindingFacts({ binding, openFaults }: { binding: BindingState; openFaults: Fault[] }) {
  const lock = binding.lock;
  // Each reason with the note it was locked with (what the operator typed, or the rule's words).
  const reasons = lock.reasons.map((r) => `${r.reason.replace(/_/g, ' ')}${r.note ? ` (${r.note})` : ''}`).join(', ');
  return (
    <Facts
      pairs={[
        ['Merchant', binding.merchant ? `${binding.merchant.name} (MID ${binding.merchant.mid})` : 'not bound'],
        binding.binding ? ['Terminal id (TID)', binding.binding.tid] : null,
        binding.binding ? ['Bound since', fmtDate(binding.binding.createdAt)] : null,
        [
          'Lock',
          <span class={`badge ${lock.locked ? 'locked' : 'unlocked'}`} data-locked={String(lock.locked)}>
            {lock.locked ? `locked${reasons ? `: ${reasons}` : ''}` : 'unlocked'}
          </span>,
        ],
        lock.command?.queued ? ['Lock command', `${lock.command.type} ${lock.command.state} (waits for the terminal)`] : null,
        [
          'Relocation',
          <span class="relocation" data-relocated={String(binding.relocation.relocated)}>
            {relocationText(binding.relocation, openFaults)}
          </span>,
        ],
        binding.pendingRebindRequest
          ? ['Re-binding', <a href="/ui/merchants">pending approval → {binding.pendingRebindRequest.merchantId}</a>]
          : null,
      ]}
    />
  );
}

export function DeviceBadges({ device, binding }: { device: DeviceDetail | null; binding: BindingState | null }) {
  if (!device) return <p class="badges" aria-live="polite" />;
  const locked = binding?.lock.locked;
  return (
    <p class="badges" aria-live="polite">
      <OnlineBadge online={device.online} everSeen={Boolean(device.lastSeenAt)} /> <StateBadge state={device.status} />{' '}
      {binding ? <span class={`badge ${locked ? 'locked' : 'unlocked'}`}>{locked ? 'locked' : 'unlocked'}</span> : null}{' '}
      <span class="muted small">
        Last heard <Time iso={device.lastSeenAt} />
      </span>
    </p>
  );
}

/** @jsxImportSource preact */
// Device page: identity, merchant binding and lock, latest health, health charts (history, then
// live samples from the stream), open faults, diagnostics and log bundles, commands, timeline;
// actions with a confirmation step.
import type { ComponentChildren } from 'preact';
import { useMemo } from 'preact/hooks';
import { useLiveEvents } from '../../live.ts';
import { tokenStore } from '../../session.ts';
import { ErrorBox } from '../../ui.tsx';
import type { ViewContext } from '../../viewContract.ts';
import { DeviceActions } from './DeviceActions.tsx';
import { BindingFacts, DeviceBadges, Facts, HealthFacts, Identity } from './DeviceFacts.tsx';
import { CommandList, DiagnosticsList, FaultList, LogBundleList, Timeline } from './DeviceLists.tsx';
import { HealthChartsSection } from './HealthChartsSection.tsx';
import { Section, Unavailable } from '../../ui.tsx';
import { useDeviceData, type Part } from './useDeviceData.ts';
import type { LogBundle } from './deviceData.ts';

const Loading = () => <p class="loading">Loading…</p>;

/** A card's body: loading, its error, "not available in this build", or `ready` of the value. */
function PartView<T>({
  part,
  name,
  ready,
  loading = true,
}: {
  part: Part<T>;
  name: string;
  ready(v: T): ComponentChildren;
  loading?: boolean;
}) {
  if (part.unavailable) return <Unavailable what={name} />;
  if (part.error !== undefined) return <ErrorBox error={part.error} />;
  if (part.value === undefined) return loading ? <Loading /> : null;
  return <>{ready(part.value)}</>;
}

async function downloadWithToken(path: string, filename: string) {
  const res = await fetch(path, { headers: { authorization: `Bearer ${tokenStore.get() ?? ''}` } });
  if (!res.ok) throw new Error(`download failed (HTTP ${res.status})`);
  const url = URL.createObjectURL(await res.blob());
  const a = Object.assign(document.createElement('a'), { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function DevicePage({ ctx }: { ctx: ViewContext }) {
  const id = ctx.params[0] ?? '';
  const data = useDeviceData(id, ctx.setTitle);
  const { device, binding, faults, refresh, load } = data;
  const d = device.value ?? null;
  const diagByCmd = useMemo(() => new Map((data.diag.value ?? []).map((r) => [r.cmdId, r])), [data.diag.value]);

  useLiveEvents((name, ev) => {
    if (name === 'stream.resumed') {
      refresh.device();
      refresh.commands();
      refresh.timeline();
      refresh.faults();
      return;
    }
    if (ev.deviceId !== id || name === 'device.health') return; // health comes on the charts' own stream
    if (name === 'device.presence') {
      const online = ev.online;
      if (typeof online === 'boolean')
        data.setDevice((p) =>
          p.value
            ? {
                value: {
                  ...p.value,
                  online,
                  lastSeenAt:
                    p.value.lastSeenAt ??
                    new Date(typeof ev.ts === 'number' || typeof ev.ts === 'string' ? ev.ts : Date.now()).toISOString(),
                },
              }
            : p,
        );
      refresh.device();
      refresh.timeline();
    } else if (name === 'command.updated') {
      refresh.commands();
      refresh.timeline();
      if (ev.type === 'lock' || ev.type === 'unlock' || ev.type === 'binding.set') refresh.binding();
    } else if (name.startsWith('fault.')) {
      refresh.faults();
      refresh.timeline();
    } else if (name === 'diagnostics.updated') refresh.diag();
    else if (name === 'logs.updated') refresh.logs();
    else if (name === 'device.binding') refresh.binding();
    else if (name.startsWith('device.')) {
      refresh.device();
      refresh.timeline();
    }
  });

  if (data.notFound)
    return (
      <p>
        There is no device {id}. <a href="/ui/devices">Back to the device list</a>
      </p>
    );

  const download = (b: LogBundle, path: string) =>
    downloadWithToken(path, `${d?.serial ?? id}-${b.id}.log`).catch((e: unknown) =>
      ctx.toast(e instanceof Error ? e.message : String(e), 'error'),
    );

  return (
    <>
      <p class="crumbs">
        <a href="/ui/devices">← All devices</a>
      </p>
      <DeviceBadges device={d} binding={binding.value ?? null} />
      <DeviceActions
        ctx={ctx}
        id={id}
        device={d}
        binding={binding.value ?? null}
        onRequested={refresh.commands}
        onLockChanged={() => void load.binding()}
      />
      <div class="grid-3">
        <Section title="Identity">
          <div>
            <PartView part={device} name="Device" ready={(v) => <Identity device={v} />} />
          </div>
        </Section>
        <Section title="Merchant binding and lock">
          <div>
            {binding.unavailable ? (
              <>
                <Facts pairs={[['Merchant', d?.merchantId ?? 'not bound']]} />
                <Unavailable what="Binding and lock details" />
              </>
            ) : (
              <PartView part={binding} name="Binding" ready={(v) => <BindingFacts binding={v} openFaults={faults.value ?? []} />} />
            )}
          </div>
        </Section>
        <Section title="Latest health">
          <div aria-live="polite">{d ? <HealthFacts device={d} /> : <Loading />}</div>
        </Section>
      </div>
      <Section title="Open faults">
        <div aria-live="polite">
          <PartView part={faults} name="Faults" loading={false} ready={(v) => <FaultList faults={v} deviceId={id} />} />
        </div>
      </Section>
      <HealthChartsSection deviceId={id} onSample={refresh.device} />
      <div class="grid-2">
        <Section title="Diagnostics">
          <div aria-live="polite">
            <PartView part={data.diag} name="Diagnostics results" loading={false} ready={(v) => <DiagnosticsList runs={v} />} />
          </div>
        </Section>
        <Section title="Log bundles">
          <div aria-live="polite">
            <PartView
              part={data.logs}
              name="Log bundles"
              loading={false}
              ready={(v) => <LogBundleList bundles={v} download={download} />}
            />
          </div>
        </Section>
      </div>
      <Section title="Commands">
        <div aria-live="polite">
          <PartView
            part={data.commands}
            name="Commands"
            loading={false}
            ready={(v) => <CommandList commands={v} diagByCmd={diagByCmd} />}
          />
        </div>
      </Section>
      <Section title="Timeline">
        {data.timeline.value ? <Timeline entries={data.timeline.value} /> : <ol class="timeline" />}
        <div>
          {data.timeline.error !== undefined ? (
            <ErrorBox error={data.timeline.error} />
          ) : data.timelineCursor ? (
            <button type="button" class="btn" onClick={() => void load.timeline(true)}>
              Show older entries
            </button>
          ) : null}
        </div>
      </Section>
    </>
  );
}

// Device page: identity, merchant binding and lock, latest health, health charts (history, then
// live samples from the stream), open faults, diagnostics and log bundles, commands, timeline;
// actions with a confirmation step.
import { api, has, session, isRole } from '../api.js';
import { dataTable, lineChart } from '../chart.js';
import { openStream } from '../stream.js';
import {
  dl,
  errorBox,
  fmtDate,
  h,
  onlineBadge,
  replace,
  section,
  severityBadge,
  stateBadge,
  table,
  throttle,
  timeEl,
  unavailable,
} from '../dom.js';

const RANGES = [
  ['6h', '6 hours', 6 * 3600_000],
  ['24h', '24 hours', 24 * 3600_000],
  ['7d', '7 days', 7 * 86_400_000],
  ['30d', '30 days', 30 * 86_400_000],
];

const TIMELINE_PAGE = 25;
const CHART_MAX_POINTS = 400;

function healthFacts(hs, d) {
  if (!hs) return h('p', { class: 'muted' }, 'No health sample received yet.');
  const reader = hs.cardReader
    ? Object.entries(hs.cardReader)
        .map(([k, v]) => `${k.toUpperCase()} ${v}`)
        .join(', ')
    : null;
  const storage = hs.storage
    ? `${Math.round(hs.storage.freeMb)} MB free of ${Math.round(hs.storage.totalMb)} MB (${Math.round((hs.storage.freeMb / hs.storage.totalMb) * 100)}%)`
    : null;
  return dl([
    ['Sampled', timeEl(new Date(hs.ts).toISOString())],
    hs.battery ? ['Battery', `${Math.round(hs.battery.level)}%${hs.battery.charging ? ', charging' : ''}`] : null,
    hs.temperatureC !== undefined ? ['Temperature', `${hs.temperatureC} °C`] : null,
    hs.signal ? ['Signal', `${hs.signal.rssi} dBm (${hs.signal.type})`] : null,
    hs.printer ? ['Printer', hs.printer.status.replace(/_/g, ' ')] : null,
    reader ? ['Card readers', reader] : null,
    storage ? ['Storage', storage] : null,
    hs.memory ? ['Free memory', `${Math.round(hs.memory.freeMb)} MB`] : null,
    hs.tamper !== undefined ? ['Tamper', hs.tamper ? 'TAMPER DETECTED' : 'no'] : null,
    hs.uptimeS !== undefined ? ['Uptime', `${Math.round(hs.uptimeS / 3600)} h`] : null,
    hs.location
      ? [
          'Location',
          `${hs.location.lat.toFixed(5)}, ${hs.location.lon.toFixed(5)} (±${Math.round(hs.location.accuracyM)} m, ${hs.location.source})`,
        ]
      : null,
    ['Last heard', timeEl(d.lastSeenAt)],
  ]);
}

async function downloadWithToken(path, filename) {
  const res = await fetch(path, { headers: { authorization: `Bearer ${session.token}` } });
  if (!res.ok) throw new Error(`download failed (HTTP ${res.status})`);
  const url = URL.createObjectURL(await res.blob());
  const a = h('a', { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function mount(root, ctx) {
  const id = ctx.params[0];
  const enc = encodeURIComponent(id);
  let device = null;
  let stopped = false;
  const timers = [];

  const badges = h('p', { class: 'badges', 'aria-live': 'polite' });
  const actions = h('div', { class: 'actions', role: 'group', 'aria-label': 'Device actions' });
  const identityBox = h('div', null, h('p', { class: 'loading' }, 'Loading…'));
  const bindingBox = h('div', null, h('p', { class: 'loading' }, 'Loading…'));
  const healthBox = h('div', { 'aria-live': 'polite' }, h('p', { class: 'loading' }, 'Loading…'));
  const faultsBox = h('div', { 'aria-live': 'polite' });
  const chartsBox = h('div', { class: 'charts' });
  const chartsLive = h('span', { class: 'muted small chart-live', dataset: { state: 'connecting' } }, 'Connecting live updates…');
  const diagBox = h('div', { 'aria-live': 'polite' });
  const logsBox = h('div', { 'aria-live': 'polite' });
  const commandsBox = h('div', { 'aria-live': 'polite' });
  const timelineList = h('ol', { class: 'timeline' });
  const timelineMore = h('div');

  let range = RANGES[1];
  const rangePicker = h(
    'fieldset',
    { class: 'segmented' },
    h('legend', { class: 'visually-hidden' }, 'Chart period'),
    RANGES.map((r) => {
      const inputId = `range-${r[0]}`;
      return [
        h('input', {
          type: 'radio',
          name: 'range',
          id: inputId,
          value: r[0],
          checked: r === range,
          onchange: () => ((range = r), loadCharts()),
        }),
        h('label', { for: inputId }, r[1]),
      ];
    }),
  );

  root.append(
    h('p', { class: 'crumbs' }, h('a', { href: '/ui/devices' }, '← All devices')),
    badges,
    actions,
    h(
      'div',
      { class: 'grid-3' },
      section('Identity', identityBox),
      section('Merchant binding and lock', bindingBox),
      section('Latest health', healthBox),
    ),
    section('Open faults', faultsBox),
    section('Health over time', h('div', { class: 'section-tools' }, rangePicker, chartsLive), chartsBox),
    h('div', { class: 'grid-2' }, section('Diagnostics', diagBox), section('Log bundles', logsBox)),
    section('Commands', commandsBox),
    section('Timeline', timelineList, timelineMore),
  );

  // --- loading -------------------------------------------------------------------------------

  async function loadDevice() {
    try {
      device = await api('GET', `/v1/devices/${enc}`);
      if (stopped) return;
      ctx.setTitle(`Terminal ${device.serial}`);
      replace(
        identityBox,
        dl([
          ['Serial', device.serial],
          ['Device id', h('code', null, device.id)],
          ['Model', device.model],
          ['Status', stateBadge(device.status)],
          ['Firmware', `${device.reportedFwVersion ?? device.fwVersion ?? '—'}${device.slot ? ` (slot ${device.slot})` : ''}`],
          ['Enrolled', device.enrolledAt ? fmtDate(device.enrolledAt) : 'not enrolled'],
          Object.keys(device.labels ?? {}).length
            ? [
                'Labels',
                Object.entries(device.labels)
                  .map(([k, v]) => `${k}=${v}`)
                  .join(', '),
              ]
            : null,
        ]),
      );
      replace(healthBox, healthFacts(device.health, device));
      renderBadges();
    } catch (err) {
      if (err.status === 404) {
        ctx.setTitle('Device not found');
        replace(root, h('p', null, `There is no device ${id}. `, h('a', { href: '/ui/devices' }, 'Back to the device list')));
        stopped = true;
        return;
      }
      replace(identityBox, errorBox(err));
    }
  }

  let binding = null;
  async function loadBinding() {
    if (!has('GET /v1/devices/{id}/binding')) {
      replace(bindingBox, dl([['Merchant', device?.merchantId ?? 'not bound']]), unavailable('Binding and lock details'));
      return;
    }
    try {
      binding = await api('GET', `/v1/devices/${enc}/binding`);
      if (stopped) return;
      const lock = binding.lock ?? {};
      const reasons = (lock.reasons ?? []).map((r) => r.reason.replace(/_/g, ' ')).join(', ');
      replace(
        bindingBox,
        dl([
          ['Merchant', binding.merchant ? `${binding.merchant.name} (MID ${binding.merchant.mid})` : 'not bound'],
          binding.binding ? ['Terminal id (TID)', binding.binding.tid] : null,
          binding.binding ? ['Bound since', fmtDate(binding.binding.createdAt)] : null,
          [
            'Lock',
            h(
              'span',
              { class: `badge ${lock.locked ? 'locked' : 'unlocked'}`, dataset: { locked: String(Boolean(lock.locked)) } },
              lock.locked ? `locked${reasons ? `: ${reasons}` : ''}` : 'unlocked',
            ),
          ],
          lock.command?.queued ? ['Lock command', `${lock.command.type} ${lock.command.state} (waits for the terminal)`] : null,
          binding.relocation ? ['Relocation', relocationText(binding.relocation)] : null,
          binding.pendingRebindRequest
            ? ['Re-binding', h('a', { href: '/ui/merchants' }, `pending approval → ${binding.pendingRebindRequest.merchantId}`)]
            : null,
        ]),
      );
      renderBadges();
      renderActions();
    } catch (err) {
      replace(bindingBox, errorBox(err));
    }
  }

  function relocationText(r) {
    if (r.exempt) return 'exempt (mobile merchant)';
    if (r.outOfFence || r.consecutiveOut) return `outside the merchant location (${r.consecutiveOut ?? '?'} fixes in a row)`;
    return 'within the merchant location';
  }

  function renderBadges() {
    if (!device) return;
    const locked = binding?.lock?.locked;
    replace(
      badges,
      onlineBadge(device.online),
      ' ',
      stateBadge(device.status),
      ' ',
      binding ? h('span', { class: `badge ${locked ? 'locked' : 'unlocked'}` }, locked ? 'locked' : 'unlocked') : null,
      ' ',
      h('span', { class: 'muted small' }, 'Last heard ', timeEl(device.lastSeenAt)),
    );
  }

  async function loadFaults() {
    if (!has('GET /v1/faults')) {
      replace(faultsBox, unavailable('Faults'));
      return;
    }
    try {
      const page = await api('GET', '/v1/faults', { query: { deviceId: id, limit: 50 } });
      if (stopped) return;
      replace(
        faultsBox,
        table({
          caption: 'Unresolved faults of this terminal',
          head: ['Severity', 'Fault', 'State', 'Opened', 'Assignee'],
          rows: page.items.map((f) =>
            h(
              'tr',
              { dataset: { faultId: f.id, code: f.code } },
              h('td', null, severityBadge(f.severity)),
              h('td', null, f.title, f.detail ? h('div', { class: 'muted small' }, f.detail) : null),
              h('td', null, stateBadge(f.state)),
              h('td', null, timeEl(f.openedAt)),
              h('td', null, f.assigneeName ?? f.assigneeId ?? '—'),
            ),
          ),
          empty: 'No open fault.',
        }),
        page.items.length ? h('p', null, h('a', { href: `/ui/faults?deviceId=${enc}` }, 'Handle these in the fault queue')) : null,
      );
    } catch (err) {
      replace(faultsBox, errorBox(err));
    }
  }

  // The chart data: history from the API, then samples appended as the stream brings them.
  let chart = null; // {from, to, bucketMs, points}
  let earlyLive = []; // samples that came before the history

  async function loadCharts() {
    if (!has('GET /v1/devices/{id}/health-history')) {
      replace(chartsBox, unavailable('Health history'));
      return;
    }
    const to = new Date();
    const from = new Date(to.getTime() - range[2]);
    const asked = range;
    try {
      chartsBox.setAttribute('aria-busy', 'true');
      const res = await api('GET', `/v1/devices/${enc}/health-history`, {
        query: { from: from.toISOString(), to: to.toISOString(), maxPoints: CHART_MAX_POINTS },
      });
      if (stopped || asked !== range) return;
      // Live points that arrived while this was loading stay (the history may not have them yet).
      const latest = res.points.length ? Date.parse(res.points[res.points.length - 1].ts) : -Infinity;
      const pending = (chart?.points ?? earlyLive).filter((p) => p.live && Date.parse(p.ts) > latest);
      earlyLive = [];
      chart = { from: from.getTime(), to: to.getTime(), bucketMs: res.bucketMs, points: res.points.concat(pending) };
      renderCharts();
    } catch (err) {
      replace(chartsBox, errorBox(err));
    } finally {
      chartsBox.setAttribute('aria-busy', 'false');
    }
  }

  /** A sample from the stream: appended, the period slides to now, drawn at most once a second. */
  function addLivePoint(p) {
    if (!p?.ts) return;
    if (!chart) {
      if (earlyLive.length < CHART_MAX_POINTS) earlyLive.push({ ...p, live: true });
      return;
    }
    const t = Date.parse(p.ts);
    const last = chart.points[chart.points.length - 1];
    if (Number.isNaN(t) || (last && Date.parse(last.ts) >= t)) return; // already shown (or older)
    chart.points.push({ ...p, live: true });
    chart.to = Math.max(Date.now(), t);
    chart.from = chart.to - range[2];
    while (chart.points.length > 1 && Date.parse(chart.points[0].ts) < chart.from) chart.points.shift();
    // An open page over hours must not grow without bound: keep the last points only.
    if (chart.points.length > CHART_MAX_POINTS * 2) chart.points.splice(0, chart.points.length - CHART_MAX_POINTS * 2);
    redrawCharts();
  }

  function renderCharts() {
    if (!chart) return;
    const pts = chart.points;
    const series = (key) => pts.map((p) => ({ t: Date.parse(p.ts), v: p[key] }));
    const common = { from: chart.from, to: chart.to };
    const tableOpen = chartsBox.querySelector('details.chart-data')?.open ?? false;
    replace(
      chartsBox,
      h(
        'div',
        { class: 'charts-row' },
        lineChart({
          title: 'Battery',
          unit: '%',
          points: series('battery'),
          domain: [0, 100],
          bands: [{ from: 0, to: 15, className: 'band-bad' }],
          ...common,
        }),
        lineChart({
          title: 'Temperature',
          unit: ' °C',
          points: series('temperatureC'),
          bands: [{ from: 60, to: 200, className: 'band-bad' }],
          ...common,
        }),
        lineChart({ title: 'Signal', unit: ' dBm', points: series('rssi'), ...common }),
      ),
      pts.length
        ? dataTable(
            'Health samples',
            [
              { key: 'battery', label: 'Battery %' },
              { key: 'temperatureC', label: 'Temperature °C' },
              { key: 'rssi', label: 'Signal dBm' },
            ],
            pts,
          )
        : null,
      chart.bucketMs ? h('p', { class: 'muted small' }, `Thinned to one sample per ${Math.round(chart.bucketMs / 60000)} minutes.`) : null,
    );
    if (tableOpen) chartsBox.querySelector('details.chart-data')?.setAttribute('open', '');
  }

  async function loadDiagnostics() {
    if (!has('GET /v1/devices/{id}/diagnostics')) {
      replace(diagBox, unavailable('Diagnostics results'));
      return;
    }
    try {
      const page = await api('GET', `/v1/devices/${enc}/diagnostics`, { query: { limit: 5 } });
      if (stopped) return;
      replace(
        diagBox,
        page.items.length
          ? h(
              'ul',
              { class: 'plain-list' },
              page.items.map((d) =>
                h(
                  'li',
                  { class: 'diag', dataset: { cmdId: d.cmdId } },
                  h('div', null, stateBadge(d.passed === null ? d.state : d.passed ? 'passed' : 'failed'), ' ', timeEl(d.requestedAt)),
                  Object.keys(d.components ?? {}).length
                    ? h(
                        'ul',
                        { class: 'chips' },
                        Object.entries(d.components).map(([k, v]) => h('li', { class: `chip chip-${v}` }, `${k}: ${v}`)),
                      )
                    : null,
                  d.error ? h('p', { class: 'form-error' }, `${d.error.code}: ${d.error.message}`) : null,
                ),
              ),
            )
          : h('p', { class: 'muted' }, 'No self-test run yet.'),
      );
    } catch (err) {
      replace(diagBox, errorBox(err));
    }
  }

  async function loadLogs() {
    if (!has('GET /v1/devices/{id}/logs')) {
      replace(logsBox, unavailable('Log bundles'));
      return;
    }
    try {
      const page = await api('GET', `/v1/devices/${enc}/logs`, { query: { limit: 5 } });
      if (stopped) return;
      replace(
        logsBox,
        page.items.length
          ? h(
              'ul',
              { class: 'plain-list' },
              page.items.map((b) =>
                h(
                  'li',
                  null,
                  stateBadge(b.state),
                  ' ',
                  timeEl(b.requestedAt),
                  b.sizeBytes ? ` · ${Math.ceil(b.sizeBytes / 1024)} KiB` : '',
                  ' ',
                  b.downloadPath
                    ? h(
                        'button',
                        {
                          type: 'button',
                          class: 'btn btn-small',
                          onclick: () =>
                            downloadWithToken(b.downloadPath, `${device?.serial ?? id}-${b.id}.log`).catch((e) =>
                              ctx.toast(e.message, 'error'),
                            ),
                        },
                        'Download',
                      )
                    : null,
                ),
              ),
            )
          : h('p', { class: 'muted' }, 'No log bundle requested yet.'),
      );
    } catch (err) {
      replace(logsBox, errorBox(err));
    }
  }

  async function loadCommands() {
    try {
      const page = await api('GET', `/v1/devices/${enc}/commands`, { query: { limit: 10 } });
      if (stopped) return;
      replace(
        commandsBox,
        table({
          caption: 'Recent commands',
          head: ['Command', 'State', 'Progress', 'Issued', 'Result'],
          rows: page.items.map((c) =>
            h(
              'tr',
              { dataset: { cmdId: c.id, type: c.type } },
              h('td', null, h('code', null, c.type)),
              h('td', null, stateBadge(c.state)),
              h(
                'td',
                null,
                c.stage
                  ? `${c.stage}${c.progress !== null && c.progress !== undefined ? ` ${c.progress}%` : ''}`
                  : c.progress !== null && c.progress !== undefined
                    ? `${c.progress}%`
                    : '—',
              ),
              h('td', null, timeEl(c.issuedAt)),
              h(
                'td',
                { class: 'small' },
                c.error ? `${c.error.code}: ${c.error.message}` : c.result ? JSON.stringify(c.result).slice(0, 120) : '—',
              ),
            ),
          ),
          empty: 'No command sent yet.',
        }),
      );
    } catch (err) {
      replace(commandsBox, errorBox(err));
    }
  }

  let timelineCursor = null;
  async function loadTimeline(more = false) {
    try {
      const page = await api('GET', `/v1/devices/${enc}/timeline`, {
        query: { limit: TIMELINE_PAGE, cursor: more ? timelineCursor : undefined },
      });
      if (stopped) return;
      if (!more) replace(timelineList);
      timelineList.append(
        ...page.items.map((e) =>
          h(
            'li',
            { class: `tl tl-${e.kind.replace(/[^a-z_]/g, '')}`, dataset: { kind: e.kind } },
            h('span', { class: 'tl-kind' }, e.kind.replace(/_/g, ' ')),
            h('span', { class: 'tl-summary' }, e.summary),
            timeEl(e.ts),
          ),
        ),
      );
      if (!timelineList.children.length) timelineList.append(h('li', { class: 'muted' }, 'Nothing has happened to this terminal yet.'));
      timelineCursor = page.nextCursor;
      replace(
        timelineMore,
        timelineCursor ? h('button', { type: 'button', class: 'btn', onclick: () => loadTimeline(true) }, 'Show older entries') : null,
      );
    } catch (err) {
      replace(timelineMore, errorBox(err));
    }
  }

  // --- actions ---------------------------------------------------------------------------------

  async function run(label, fn) {
    try {
      await fn();
      ctx.toast(`${label}: requested.`, 'ok');
      ctx.announce(`${label} requested for terminal ${device?.serial ?? id}.`);
      refreshCommands();
    } catch (err) {
      ctx.toast(`${label} failed: ${err.message}`, 'error');
    }
  }

  const sendCommand = (type, payload) => api('POST', `/v1/devices/${enc}/commands`, { body: payload ? { type, payload } : { type } });

  function actionButton(label, { title, body, confirmLabel, danger, doIt, disabled }) {
    return h(
      'button',
      {
        type: 'button',
        class: `btn ${danger ? 'btn-danger-outline' : ''}`,
        disabled,
        onclick: async () => {
          const ok = await ctx.confirm({ title, body, confirmLabel, danger });
          if (ok) await run(label, doIt);
        },
      },
      label,
    );
  }

  function renderActions() {
    const canAct = isRole('admin', 'operator', 'technician');
    const canLock = isRole('admin', 'operator', 'technician');
    const locked = binding?.lock?.locked;
    const who = device ? `terminal ${device.serial}` : `device ${id}`;
    const offlineNote = device && !device.online ? ' The terminal is offline: the command waits until it reconnects.' : '';
    const lockRoute = has('POST /v1/devices/{id}/lock');
    replace(
      actions,
      actionButton('Run diagnostics', {
        title: 'Run diagnostics?',
        body: `Run the printer, card reader, storage and network self-tests on ${who}.${offlineNote}`,
        confirmLabel: 'Run diagnostics',
        disabled: !canAct,
        doIt: () =>
          has('POST /v1/devices/{id}/diagnostics') ? api('POST', `/v1/devices/${enc}/diagnostics`, { body: {} }) : sendCommand('diag.run'),
      }),
      actionButton('Upload logs', {
        title: 'Upload logs?',
        body: `Ask ${who} to upload its log bundle.${offlineNote}`,
        confirmLabel: 'Request logs',
        disabled: !canAct,
        doIt: () => (has('POST /v1/devices/{id}/logs') ? api('POST', `/v1/devices/${enc}/logs`, { body: {} }) : sendCommand('logs.upload')),
      }),
      actionButton('Reboot', {
        title: 'Reboot the terminal?',
        body: `Reboot ${who}. A payment in progress is finished first; the terminal is unavailable for about a minute.${offlineNote}`,
        confirmLabel: 'Reboot',
        danger: true,
        disabled: !canAct,
        doIt: () => sendCommand('reboot'),
      }),
      locked
        ? actionButton('Unlock', {
            title: 'Unlock the terminal?',
            body: `Release the operator lock on ${who}. Locks for other reasons (suspension, relocation, limits) stay.${offlineNote}`,
            confirmLabel: 'Unlock',
            disabled: !isRole('admin', 'operator'),
            doIt: () =>
              (lockRoute ? api('POST', `/v1/devices/${enc}/unlock`, { body: { reason: 'operator' } }) : sendCommand('unlock')).then(() =>
                setTimeout(loadBinding, 300),
              ),
          })
        : actionButton('Lock', {
            title: 'Lock the terminal?',
            body: `Lock ${who}: it stays connected and manageable but refuses every transaction until unlocked.${offlineNote}`,
            confirmLabel: 'Lock terminal',
            danger: true,
            disabled: !canLock,
            doIt: () =>
              (lockRoute ? api('POST', `/v1/devices/${enc}/lock`, { body: { reason: 'operator' } }) : sendCommand('lock')).then(() =>
                setTimeout(loadBinding, 300),
              ),
          }),
    );
  }

  // --- live ------------------------------------------------------------------------------------

  const refreshDevice = throttle(loadDevice, 1000);
  const refreshCommands = throttle(loadCommands, 700);
  const refreshTimeline = throttle(() => loadTimeline(false), 1500);
  const refreshFaults = throttle(loadFaults, 800);
  const refreshDiag = throttle(loadDiagnostics, 800);
  const refreshLogs = throttle(loadLogs, 800);
  const refreshBinding = throttle(loadBinding, 800);
  const redrawCharts = throttle(renderCharts, 1000);

  renderActions();
  loadDevice().then(() => {
    renderActions();
    loadBinding();
  });
  loadFaults();
  loadCharts();
  loadDiagnostics();
  loadLogs();
  loadCommands();
  loadTimeline();
  // Health samples of this terminal only, on a stream of their own (the server publishes a
  // device's samples only while someone watches it). The poll stays as a fallback.
  const liveText = {
    connecting: 'Connecting live updates…',
    live: 'Live',
    reconnecting: 'Live updates paused, reconnecting…',
    closed: 'Not live',
    unauthorized: 'Not live',
  };
  const healthStream = openStream({
    token: session.token,
    types: ['device.health'],
    health: [id],
    onStatus: (state) => {
      chartsLive.dataset.state = state;
      chartsLive.textContent = liveText[state] ?? state;
    },
    onEvent: (name, data) => {
      if (stopped) return;
      if (name === 'stream.resumed') loadCharts();
      else if (name === 'device.health' && data?.deviceId === id) {
        addLivePoint(data);
        refreshDevice();
      }
    },
  });
  timers.push(setInterval(() => !document.hidden && refreshDevice(), 10_000));
  timers.push(setInterval(() => !document.hidden && loadCharts(), 5 * 60_000));

  return {
    onEvent(name, data) {
      if (name === 'stream.resumed') {
        refreshDevice();
        refreshCommands();
        refreshTimeline();
        refreshFaults();
        return;
      }
      if (!data || data.deviceId !== id) return;
      if (name === 'device.health') return; // comes on the page's own stream
      if (name === 'device.presence') {
        if (device) {
          device.online = data.online;
          renderBadges();
          renderActions();
        }
        refreshDevice();
        refreshTimeline();
      } else if (name === 'command.updated') {
        refreshCommands();
        refreshTimeline();
        if (data.type === 'lock' || data.type === 'unlock' || data.type === 'binding.set') refreshBinding();
      } else if (name.startsWith('fault.')) {
        refreshFaults();
        refreshTimeline();
      } else if (name === 'diagnostics.updated') refreshDiag();
      else if (name === 'logs.updated') refreshLogs();
      else if (name === 'device.binding') refreshBinding();
      else if (name.startsWith('device.')) {
        refreshDevice();
        refreshTimeline();
      }
    },
    unmount() {
      stopped = true;
      healthStream.close();
      for (const t of timers) clearInterval(t);
    },
  };
}

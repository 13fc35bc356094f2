// Device page: identity, merchant binding and lock, latest health, health charts (history, then
// live samples from the stream), open faults, diagnostics and log bundles, commands, timeline;
// actions with a confirmation step.
import { api, has, session, isRole } from '../api.js';
import { openStream } from '../stream.js';
import { createHealthCharts } from '../../charts/deviceHealthCharts.ts';
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

const TIMELINE_PAGE = 25;
/** Commands listed; diagnostics are fetched as many, so every diag.run row finds its result. */
const COMMANDS_PAGE = 10;
const DIAG_SHOWN = 5;

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

// finalCommandStates of schemas/db.ts (the browser cannot import it).
const FINAL_COMMAND_STATES = new Set(['succeeded', 'failed', 'rejected', 'expired', 'cancelled']);

/** A diagnostics run as one badge: the self-test's verdict once there is one, else the command's state. */
function diagOutcomeBadge(d) {
  if (d.passed === null) return stateBadge(d.state);
  const notPassed = Object.entries(d.components ?? {}).filter(([, v]) => v !== 'pass');
  const label = d.passed ? 'self-test passed' : `self-test failed${notPassed.length ? `: ${notPassed.map(([k]) => k).join(', ')}` : ''}`;
  return h(
    'span',
    { class: `badge state state-${d.passed ? 'passed' : 'failed'}`, dataset: { outcome: d.passed ? 'passed' : 'failed' } },
    label,
  );
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
  const charts = createHealthCharts({ deviceId: id, isStopped: () => stopped });
  const diagBox = h('div', { 'aria-live': 'polite' });
  const logsBox = h('div', { 'aria-live': 'polite' });
  const commandsBox = h('div', { 'aria-live': 'polite' });
  const timelineList = h('ol', { class: 'timeline' });
  const timelineMore = h('div');

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
    section('Health over time', charts.tools, charts.box),
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
  let openFaults = [];
  async function loadBinding() {
    if (!has('GET /v1/devices/{id}/binding')) {
      replace(bindingBox, dl([['Merchant', device?.merchantId ?? 'not bound']]), unavailable('Binding and lock details'));
      return;
    }
    try {
      binding = await api('GET', `/v1/devices/${enc}/binding`);
      if (stopped) return;
      renderBinding();
      renderBadges();
      renderActions();
    } catch (err) {
      replace(bindingBox, errorBox(err));
    }
  }

  function renderBinding() {
    if (!binding) return;
    const lock = binding.lock ?? {};
    // Each reason with the note it was locked with (what the operator typed, or the rule's words).
    const reasons = (lock.reasons ?? []).map((r) => `${r.reason.replace(/_/g, ' ')}${r.note ? ` (${r.note})` : ''}`).join(', ');
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
        binding.relocation
          ? [
              'Relocation',
              h(
                'span',
                { class: 'relocation', dataset: { relocated: String(binding.relocation.relocated) } },
                relocationText(binding.relocation),
              ),
            ]
          : null,
        binding.pendingRebindRequest
          ? ['Re-binding', h('a', { href: '/ui/merchants' }, `pending approval → ${binding.pendingRebindRequest.merchantId}`)]
          : null,
      ]),
    );
  }

  // The run of out-of-fence fixes keeps growing after the `relocated` fault opened on the
  // policy's count; while that fault is open the card says what the fault says, not a second number.
  function relocationText(r) {
    if (r.exempt) return 'exempt (mobile merchant)';
    const fault = openFaults.find((f) => f.code === 'relocated');
    const away = r.lastDistanceM !== null && r.lastDistanceM !== undefined ? `, last fix ${Math.round(r.lastDistanceM)} m away` : '';
    if (r.relocated && fault?.detail) return `${fault.detail}${r.consecutiveOut ? '; still outside' : ''}`;
    if (r.relocated || r.consecutiveOut)
      return `outside the merchant location (${r.consecutiveOut} ${r.consecutiveOut === 1 ? 'fix' : 'fixes'} in a row${away})`;
    return 'within the merchant location';
  }

  function renderBadges() {
    if (!device) return;
    const locked = binding?.lock?.locked;
    replace(
      badges,
      onlineBadge(device.online, Boolean(device.lastSeenAt)),
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
      openFaults = page.items;
      renderBinding();
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

  // diag.run results by command id: the diagnostics box and the command rows both take the
  // self-test's outcome from here, so a row never says "succeeded" beside a failed test unnoticed.
  const diagByCmd = new Map();
  const diagReread = new Set();

  async function loadDiagnostics() {
    if (!has('GET /v1/devices/{id}/diagnostics')) {
      replace(diagBox, unavailable('Diagnostics results'));
      return;
    }
    try {
      const page = await api('GET', `/v1/devices/${enc}/diagnostics`, { query: { limit: COMMANDS_PAGE } });
      if (stopped) return;
      diagByCmd.clear();
      for (const d of page.items) diagByCmd.set(d.cmdId, d);
      renderCommands();
      replace(
        diagBox,
        page.items.length
          ? h(
              'ul',
              { class: 'plain-list' },
              page.items.slice(0, DIAG_SHOWN).map((d) =>
                h(
                  'li',
                  { class: 'diag', dataset: { cmdId: d.cmdId } },
                  h(
                    'div',
                    null,
                    diagOutcomeBadge(d),
                    d.passed === null ? null : h('span', { class: 'muted small' }, ` command ${d.state.replace(/_/g, ' ')}`),
                    ' ',
                    timeEl(d.requestedAt),
                  ),
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

  let commands = null;
  async function loadCommands() {
    try {
      const page = await api('GET', `/v1/devices/${enc}/commands`, { query: { limit: COMMANDS_PAGE } });
      if (stopped) return;
      commands = page.items;
      renderCommands();
    } catch (err) {
      replace(commandsBox, errorBox(err));
    }
  }

  /** The diag.run's self-test outcome beside its command state, once both have the result. */
  function selfTestOf(c) {
    if (c.type !== 'diag.run') return null;
    const d = diagByCmd.get(c.id);
    if (d && d.passed !== null) return [' ', diagOutcomeBadge(d)];
    // The command finished after its diagnostics entry was read: read it again, once per
    // command (a run that failed or expired has no verdict to wait for).
    if (FINAL_COMMAND_STATES.has(c.state) && d?.state !== c.state && !diagReread.has(c.id)) {
      diagReread.add(c.id);
      refreshDiag();
    }
    return null;
  }

  function renderCommands() {
    if (!commands) return;
    replace(
      commandsBox,
      table({
        caption: 'Recent commands',
        head: ['Command', 'State', 'Progress', 'Issued', 'Result'],
        rows: commands.map((c) =>
          h(
            'tr',
            { dataset: { cmdId: c.id, type: c.type } },
            h('td', null, h('code', null, c.type)),
            h('td', null, stateBadge(c.state), selfTestOf(c)),
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

  /** `reasonLabel`: the dialog asks for a reason (required: the dialog's form does not submit
   *  without it) and hands it to `doIt`. */
  function actionButton(label, { title, body, confirmLabel, danger, doIt, disabled, reasonLabel }) {
    return h(
      'button',
      {
        type: 'button',
        class: `btn ${danger ? 'btn-danger-outline' : ''}`,
        disabled,
        onclick: async () => {
          const reason = reasonLabel ? h('textarea', { id: `action-reason-${id}`, rows: 2, maxlength: 500, required: true }) : null;
          const content = reason
            ? h('div', { class: 'form-stack' }, h('p', null, body), h('label', { for: reason.id }, reasonLabel), reason)
            : body;
          const ok = await ctx.confirm({ title, body: content, confirmLabel, danger });
          if (ok) await run(label, () => doIt(reason?.value.trim()));
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
    const offlineNote =
      !device || device.online
        ? ''
        : device.lastSeenAt
          ? ' The terminal is offline: the command waits until it reconnects.'
          : ' The terminal has not connected yet: the command waits until it does.';
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
            reasonLabel: lockRoute ? 'Reason for the lock' : undefined,
            doIt: (note) =>
              (lockRoute
                ? api('POST', `/v1/devices/${enc}/lock`, { body: { reason: 'operator', note: note || undefined } })
                : sendCommand('lock')
              ).then(() => setTimeout(loadBinding, 300)),
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

  renderActions();
  loadDevice().then(() => {
    renderActions();
    loadBinding();
  });
  loadFaults();
  charts.load();
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
      charts.live.dataset.state = state;
      charts.live.textContent = liveText[state] ?? state;
    },
    onEvent: (name, data) => {
      if (stopped) return;
      if (name === 'stream.resumed') charts.load();
      else if (name === 'device.health' && data?.deviceId === id) {
        charts.addLivePoint(data);
        refreshDevice();
      }
    },
  });
  timers.push(setInterval(() => !document.hidden && refreshDevice(), 10_000));
  timers.push(setInterval(() => !document.hidden && charts.load(), 5 * 60_000));

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
          device.lastSeenAt ??= new Date(data.ts ?? Date.now()).toISOString();
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
      charts.destroy();
      for (const t of timers) clearInterval(t);
    },
  };
}

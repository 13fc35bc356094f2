// Tiny DOM helpers. Text always goes in as text nodes (never innerHTML), so data from the API
// cannot inject markup.

/**
 * h('button', {class: 'btn', onclick: fn, 'aria-label': 'x'}, 'text', child, [more])
 * Attributes: `class`, `text`, `on<event>` handlers, `dataset` object, booleans (true = present),
 * null/undefined/false = absent.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  applyAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  applyAttrs(el, attrs);
  append(el, children);
  return el;
}

function applyAttrs(el, attrs) {
  if (!attrs) return;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'text') el.textContent = String(v);
    else if (k === 'value' && 'value' in el) el.value = v;
    else if (k === 'checked' || k === 'selected' || k === 'disabled' || k === 'hidden') {
      el[k] = Boolean(v);
    } else el.setAttribute(k, v === true ? '' : String(v));
  }
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

export function replace(el, ...children) {
  clear(el);
  return append(el, children);
}

// --- formatting ---------------------------------------------------------------------------

const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const dtf = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'medium' });
const nf = new Intl.NumberFormat('en');

export const fmtNumber = (n) => (typeof n === 'number' ? nf.format(n) : '—');

export function fmtAgo(iso) {
  if (!iso) return '—';
  const ms = new Date(iso).getTime() - Date.now();
  const abs = Math.abs(ms);
  if (abs < 45_000) return 'just now';
  if (abs < 3600_000) return rtf.format(Math.round(ms / 60_000), 'minute');
  if (abs < 86_400_000) return rtf.format(Math.round(ms / 3600_000), 'hour');
  return rtf.format(Math.round(ms / 86_400_000), 'day');
}

export const fmtDate = (iso) => (iso ? dtf.format(new Date(iso)) : '—');

/** <time> with relative text and the exact moment as title and datetime. */
export function timeEl(iso) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  return h('time', { datetime: new Date(iso).toISOString(), title: fmtDate(iso) }, fmtAgo(iso));
}

export const SEVERITIES = ['critical', 'major', 'warning', 'info'];

export function severityBadge(sev) {
  return h('span', { class: `badge sev sev-${sev}` }, sev ?? '—');
}

export function stateBadge(state) {
  return h('span', { class: `badge state state-${String(state).replace(/[^a-z_]/g, '')}` }, String(state).replace(/_/g, ' '));
}

/** Presence; `everSeen` false (no last-seen time): a terminal that never connected is not "offline". */
export function onlineBadge(online, everSeen = true) {
  const presence = online ? 'online' : everSeen ? 'offline' : 'never';
  return h(
    'span',
    { class: `badge ${presence}`, dataset: { online: String(Boolean(online)), presence } },
    presence === 'never' ? 'not yet connected' : presence,
  );
}

/** A definition list from [term, value] pairs (value: node or text). */
export function dl(pairs) {
  return h(
    'dl',
    { class: 'facts' },
    pairs.filter(Boolean).map(([k, v]) => [h('dt', null, k), h('dd', null, v === null || v === undefined || v === '' ? '—' : v)]),
  );
}

/** A table wrapped so that it scrolls sideways on narrow screens instead of breaking the page. */
export function table({ caption, head, rows, empty = 'Nothing to show.', className = '' }) {
  const t = h(
    'table',
    { class: `table ${className}` },
    caption ? h('caption', { class: 'visually-hidden' }, caption) : null,
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        head.map((c) => h('th', { scope: 'col' }, c)),
      ),
    ),
    h('tbody', null, rows.length ? rows : h('tr', null, h('td', { colspan: head.length, class: 'empty' }, empty))),
  );
  return h('div', { class: 'table-wrap', role: 'region', 'aria-label': caption ?? 'table', tabindex: '0' }, t);
}

// --- filter forms -------------------------------------------------------------------------

/** A labelled control; the label points at `control.id`. */
export function field(label, control) {
  return h('div', { class: 'field' }, h('label', { for: control.id }, label), control);
}

/** A free-text filter, filled from the page's query string so a shared link shows the same list. */
export function queryInput(query, id, name) {
  return h('input', { id, name, value: query.get(name) ?? '', autocomplete: 'off' });
}

/** What each list filter is called on screen, by its query parameter in the API. */
const FILTER_LABELS = {
  q: 'Search',
  online: 'Presence',
  status: 'Status',
  state: 'State',
  severity: 'Severity',
  code: 'Kind',
  assignee: 'Assignee',
  deviceId: 'Device id',
  model: 'Model',
  fwVersion: 'Firmware',
  merchantId: 'Merchant id',
};

/** The filter bar above a list: a labelled field for each of `inputs` (query parameter →
 *  control, in order), any `extra` fields, then Apply and Clear. */
export function filterForm(ariaLabel, inputs, ...extra) {
  return h(
    'form',
    { class: 'filters card', role: 'search', 'aria-label': ariaLabel },
    Object.entries(inputs).map(([name, control]) => field(FILTER_LABELS[name], control)),
    extra,
    h(
      'div',
      { class: 'field field-actions' },
      h('button', { type: 'submit', class: 'btn btn-primary' }, 'Apply'),
      h('button', { type: 'reset', class: 'btn' }, 'Clear'),
    ),
  );
}

/** Section with a heading (h2) and an id for aria-labelledby. */
let sectionSeq = 0;
export function section(title, ...children) {
  const id = `sec-${++sectionSeq}`;
  return h('section', { class: 'card', 'aria-labelledby': id }, h('h2', { id }, title), ...children);
}

export function unavailable(what) {
  return h('p', { class: 'unavailable', dataset: { unavailable: what } }, `${what}: not available in this build.`);
}

export function errorBox(err) {
  return h('p', { class: 'form-error', role: 'alert' }, err?.message ?? String(err));
}

/** Calls fn at most once per `ms`, always with the latest call honoured (trailing). */
export function throttle(fn, ms) {
  let timer = null;
  let last = 0;
  return (...args) => {
    if (timer) return;
    const wait = Math.max(0, last + ms - Date.now());
    timer = setTimeout(() => {
      timer = null;
      last = Date.now();
      fn(...args);
    }, wait);
  };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Dashboard bootstrap: sign-in, the client-side router over /ui/*, the live stream, and the
// announcer (aria-live) that reads live updates to screen-reader users.
import { api, ApiError, loadCapabilities, session } from './api.js';
import { clear, h } from './dom.js';
import { openStream } from './stream.js';
import * as overview from './views/overview.js';
import * as faults from './views/faults.js';
import * as devices from './views/devices.js';
import * as device from './views/device.js';
import * as rollouts from './views/rollouts.js';
import * as merchants from './views/merchants.js';

const routes = [
  { re: /^\/ui\/?$/, view: overview, title: 'Fleet overview' },
  { re: /^\/ui\/faults\/?$/, view: faults, title: 'Fault queue' },
  { re: /^\/ui\/devices\/?$/, view: devices, title: 'Devices' },
  { re: /^\/ui\/devices\/([^/]+)\/?$/, view: device, title: 'Device' },
  { re: /^\/ui\/rollouts\/?$/, view: rollouts, title: 'Rollouts and key rotations' },
  { re: /^\/ui\/merchants\/?$/, view: merchants, title: 'Merchants and re-binding approvals' },
];

const $ = (id) => document.getElementById(id);
let current = null; // {view instance}
let stream = null;

// --- announcements and toasts ---------------------------------------------------------------

/** Read a short message to screen readers (polite). */
export function announce(text) {
  const el = $('announcer');
  el.textContent = '';
  // A new text node after a tick makes screen readers notice repeated messages too.
  setTimeout(() => (el.textContent = text), 50);
}

/** A visible, self-dismissing message (also announced: the toast area is a status region). */
export function toast(text, kind = 'info') {
  const el = h('div', { class: `toast toast-${kind}` }, text);
  $('toasts').append(el);
  setTimeout(() => el.remove(), kind === 'error' ? 8000 : 4000);
}

/** Confirmation dialog; resolves true when confirmed. `body` is text or a node. */
export function confirmDialog({ title, body, confirmLabel = 'Confirm', danger = false }) {
  const dlg = $('confirm');
  if (dlg.open) return Promise.resolve(false); // one question at a time
  $('confirm-title').textContent = title;
  const b = clear($('confirm-body'));
  b.append(typeof body === 'string' ? h('p', null, body) : body);
  const ok = $('confirm-ok');
  ok.textContent = confirmLabel;
  ok.className = `btn ${danger ? 'btn-danger' : 'btn-primary'}`;
  const opener = document.activeElement;
  return new Promise((resolve) => {
    dlg.returnValue = '';
    dlg.addEventListener(
      'close',
      () => {
        resolve(dlg.returnValue === 'ok');
        if (opener && opener.isConnected) opener.focus();
      },
      { once: true },
    );
    dlg.showModal();
    $('confirm-cancel').focus();
  });
}

export const ctx = { announce, toast, confirm: confirmDialog, navigate };

// --- router -------------------------------------------------------------------------------

function match(path) {
  for (const r of routes) {
    const m = r.re.exec(path);
    if (m) return { ...r, params: m.slice(1).map(decodeURIComponent) };
  }
  return null;
}

export function navigate(url, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  render();
}

function setNav(path) {
  for (const a of document.querySelectorAll('#mainnav a')) {
    const href = a.getAttribute('href');
    const here = href === '/ui/' ? /^\/ui\/?$/.test(path) : path.startsWith(href);
    if (here) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function render({ focus = true } = {}) {
  const root = $('view');
  current?.unmount?.();
  current = null;
  clear(root);
  const path = location.pathname;
  setNav(path);
  const r = match(path);
  const title = h('h1', { class: 'view-title', tabindex: '-1' }, r ? r.title : 'Not found');
  root.append(title);
  document.title = `${r ? r.title : 'Not found'} · posfleet`;
  if (!r) {
    root.append(h('p', null, 'There is no page at this address. ', h('a', { href: '/ui/' }, 'Go to the overview')));
  } else {
    const body = h('div', { class: 'view-body' });
    root.append(body);
    current = r.view.mount(body, {
      ...ctx,
      params: r.params,
      query: new URLSearchParams(location.search),
      setTitle: (t) => setTitle(title, t),
    });
  }
  if (focus) title.focus({ preventScroll: false });
}

function setTitle(el, text) {
  el.textContent = text;
  document.title = `${text} · posfleet`;
}

// In-app links: no page reload, history kept.
document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest?.('a[href]');
  if (!a || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith('/ui') || url.pathname.startsWith('/ui/assets/')) return;
  if (!session.token) return;
  e.preventDefault();
  if (url.pathname + url.search === location.pathname + location.search) return;
  navigate(url.pathname + url.search + url.hash);
});
window.addEventListener('popstate', () => session.token && render());

// --- live ---------------------------------------------------------------------------------

const statusText = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  unauthorized: 'Not live',
  closed: 'Offline',
};

function setLive(state) {
  // The token was revoked or its user disabled while the page was open.
  if (state === 'unauthorized') return session.onUnauthorized();
  const el = $('live-status');
  el.dataset.state = state;
  el.querySelector('.live-label').textContent = statusText[state] ?? state;
  el.title = state === 'live' ? 'Live updates are on' : 'Live updates are paused; the page reconnects by itself';
}

function onLiveEvent(name, data) {
  if (name === 'fault.opened') {
    announce(`New ${data.severity} fault: ${data.title} on ${data.serial ?? data.deviceId}`);
  }
  current?.onEvent?.(name, data);
}

function startStream() {
  stream?.close();
  stream = openStream({ token: session.token, onEvent: onLiveEvent, onStatus: setLive });
}

// --- session ------------------------------------------------------------------------------

function showSignedIn(me) {
  $('signin').hidden = true;
  $('view').hidden = false;
  $('mainnav').hidden = false;
  $('session').hidden = false;
  $('who').textContent = `${me.name} (${me.role})`;
  document.body.dataset.role = me.role;
}

function showSignIn(message) {
  current?.unmount?.();
  current = null;
  stream?.close();
  stream = null;
  session.token = null;
  session.me = null;
  $('signin').hidden = false;
  $('view').hidden = true;
  $('mainnav').hidden = true;
  $('session').hidden = true;
  $('signin-error').textContent = message ?? '';
  $('token').value = '';
  document.title = 'Sign in · posfleet';
  $('token').focus();
}

async function signIn(token, { focus = true } = {}) {
  const me = await api('GET', '/v1/me', { token });
  session.token = token;
  session.me = me;
  await loadCapabilities();
  showSignedIn(me);
  startStream();
  // After the form, focus moves to the page heading; on a reload the page starts at the top
  // (skip link first), as any page does.
  render({ focus });
}

session.onUnauthorized = () => showSignIn('Your session has ended (the token is no longer valid). Sign in again.');

$('signin-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const token = $('token').value.trim();
  const err = $('signin-error');
  if (!token) {
    err.textContent = 'Enter your API token.';
    $('token').focus();
    return;
  }
  err.textContent = '';
  const btn = e.submitter ?? e.target.querySelector('button');
  btn.disabled = true;
  try {
    await signIn(token);
  } catch (ex) {
    err.textContent = ex instanceof ApiError && ex.status === 401 ? 'That token is not valid.' : ex.message;
    $('token').focus();
  } finally {
    btn.disabled = false;
  }
});

$('signout').addEventListener('click', () => showSignIn('You are signed out.'));

// Already signed in in this tab (a reload): go straight to the page.
if (session.token) {
  signIn(session.token, { focus: false }).catch(() => showSignIn('Sign in again.'));
} else {
  showSignIn();
}

/** @jsxImportSource preact */
// The console's entry (bundled by server/dashboard/bundle.ts): sign-in, the client-side router over
// /ui/*, the live stream and its status, the announcer (aria-live), toasts and the confirmation
// dialog of the server-rendered shell (server/dashboard/shell.tsx). Pages are Preact components.
import { render } from 'preact';
import { ApiError } from '../apiClient.ts';
import { MeSchema } from '../../server/auth/meSchema.ts';
import { loadCapabilities } from './capabilities.ts';
import { dispatchLive } from './live.ts';
import { api, setMe, setUnauthorizedHandler, tokenStore } from './session.ts';
import { openStream, type StreamState } from './stream.ts';
import type { ViewContext, ViewInstance } from './viewContract.ts';
import { mountWhenLoaded, type Page } from './pageChunk.ts';

type Mount = (root: HTMLElement, ctx: ViewContext) => ViewInstance | undefined;

/** A Preact page mounted as a view: its live events come through useLiveEvents. */
const preactView =
  (Page: Page): Mount =>
  (root, ctx) => {
    render(<Page ctx={ctx} />, root);
    return { unmount: () => render(null, root) };
  };

// Each page is a chunk of its own (bundle.ts splits at every import()), fetched the first time its
// address is shown: the first load holds the shell, the router and the session, not every page's
// libraries (Leaflet for the map, uPlot for the device page's charts).
const campaigns = () => import('./views/campaigns/CampaignsPage.tsx');
const merchants = () => import('./views/merchants/MerchantsPage.tsx');
const routes: { re: RegExp; load: () => Promise<Page>; title: string }[] = [
  { re: /^\/ui\/?$/, load: () => import('./views/overview/OverviewPage.tsx').then((m) => m.OverviewPage), title: 'Fleet overview' },
  { re: /^\/ui\/faults\/?$/, load: () => import('./views/faults/FaultsPage.tsx').then((m) => m.FaultsPage), title: 'Fault queue' },
  { re: /^\/ui\/devices\/?$/, load: () => import('./views/Devices.tsx').then((m) => m.Devices), title: 'Devices' },
  { re: /^\/ui\/devices\/([^/]+)\/?$/, load: () => import('./views/device/DevicePage.tsx').then((m) => m.DevicePage), title: 'Device' },
  { re: /^\/ui\/rollouts\/?$/, load: () => campaigns().then((m) => m.CampaignsPage), title: 'Rollouts and key rotations' },
  { re: /^\/ui\/rollouts\/new\/?$/, load: () => campaigns().then((m) => m.NewRolloutPage), title: 'New rollout' },
  { re: /^\/ui\/key-rotations\/new\/?$/, load: () => campaigns().then((m) => m.NewKeyRotationPage), title: 'New key rotation' },
  { re: /^\/ui\/rollouts\/([^/]+)\/?$/, load: () => campaigns().then((m) => m.RolloutPage), title: 'Rollout' },
  { re: /^\/ui\/key-rotations\/([^/]+)\/?$/, load: () => campaigns().then((m) => m.KeyRotationPage), title: 'Key rotation' },
  { re: /^\/ui\/app-deployments\/new\/?$/, load: () => campaigns().then((m) => m.NewAppDeploymentPage), title: 'New app deployment' },
  { re: /^\/ui\/app-deployments\/([^/]+)\/?$/, load: () => campaigns().then((m) => m.AppDeploymentPage), title: 'App deployment' },
  { re: /^\/ui\/parameter-pushes\/([^/]+)\/?$/, load: () => campaigns().then((m) => m.ParameterPushPage), title: 'Parameter push' },
  { re: /^\/ui\/merchants\/?$/, load: () => merchants().then((m) => m.MerchantsPage), title: 'Merchants and re-binding approvals' },
  {
    re: /^\/ui\/merchants\/([^/]+)\/?$/,
    load: () => import('./views/merchants/MerchantPage.tsx').then((m) => m.MerchantPage),
    title: 'Merchant',
  },
  { re: /^\/ui\/map\/?$/, load: () => import('./views/map/MapPage.tsx').then((m) => m.MapPage), title: 'Map of terminals and geofences' },
  { re: /^\/ui\/keys\/?$/, load: () => import('./views/keys/KeysPage.tsx').then((m) => m.KeysPage), title: 'Keys and dual control' },
  {
    re: /^\/ui\/firmware\/?$/,
    load: () => import('./views/firmware/FirmwarePage.tsx').then((m) => m.FirmwarePage),
    title: 'Firmware and app packages',
  },
  { re: /^\/ui\/audit\/?$/, load: () => import('./views/audit/AuditPage.tsx').then((m) => m.AuditPage), title: 'Audit log' },
  { re: /^\/ui\/users\/?$/, load: () => import('./views/users/UsersPage.tsx').then((m) => m.UsersPage), title: 'Users and tokens' },
  { re: /^\/ui\/orgs\/?$/, load: () => import('./views/orgs/OrgsPage.tsx').then((m) => m.OrgsPage), title: 'Organisations and allocation' },
  {
    re: /^\/ui\/groups\/?$/,
    load: () => import('./views/groups/GroupsPage.tsx').then((m) => m.GroupsPage),
    title: 'Groups and saved filters',
  },
  {
    re: /^\/ui\/parameters\/?$/,
    load: () => import('./views/parameters/ParametersPage.tsx').then((m) => m.ParametersPage),
    title: 'Terminal parameters',
  },
];

function el<T extends HTMLElement>(id: string, type: new () => T): T {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`the shell has no #${id}`);
  return found;
}

let current: ViewInstance | undefined;
let stream: { close(): void } | null = null;

// --- announcements, toasts, confirmation --------------------------------------------------

/** Read a short message to screen readers (polite). */
function announce(text: string) {
  const node = el('announcer', HTMLElement);
  node.textContent = '';
  // A new text node after a tick makes screen readers notice repeated messages too.
  setTimeout(() => (node.textContent = text), 50);
}

/** A visible, self-dismissing message (also announced: the toast area is a status region). */
function toast(text: string, kind: 'info' | 'success' | 'error' = 'info') {
  const node = document.createElement('div');
  node.className = `toast toast-${kind}`;
  node.textContent = text;
  el('toasts', HTMLElement).append(node);
  setTimeout(() => node.remove(), kind === 'error' ? 8000 : 4000);
}

function confirmDialog({ title, body, confirmLabel = 'Confirm', danger = false }: Parameters<ViewContext['confirm']>[0]): Promise<boolean> {
  const dlg = el('confirm', HTMLDialogElement);
  if (dlg.open) return Promise.resolve(false); // one question at a time
  el('confirm-title', HTMLElement).textContent = title;
  const bodyEl = el('confirm-body', HTMLElement);
  bodyEl.replaceChildren(typeof body === 'string' ? Object.assign(document.createElement('p'), { textContent: body }) : body);
  const ok = el('confirm-ok', HTMLButtonElement);
  ok.textContent = confirmLabel;
  ok.className = `btn ${danger ? 'btn-danger' : 'btn-primary'}`;
  const opener = document.activeElement;
  return new Promise((resolve) => {
    dlg.returnValue = '';
    dlg.addEventListener(
      'close',
      () => {
        resolve(dlg.returnValue === 'ok');
        if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
      },
      { once: true },
    );
    dlg.showModal();
    el('confirm-cancel', HTMLButtonElement).focus();
  });
}

// --- router ---------------------------------------------------------------------------------

function navigate(url: string, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  show();
}

function setNav(path: string) {
  for (const a of document.querySelectorAll('#mainnav a')) {
    const href = a.getAttribute('href') ?? '';
    const here = href === '/ui/' ? /^\/ui\/?$/.test(path) : path.startsWith(href);
    if (here) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

/** Counts the addresses shown, so a page whose chunk arrives after the user moved on is dropped. */
let visits = 0;

function show({ focus = true } = {}) {
  const root = el('view', HTMLElement);
  current?.unmount?.();
  current = undefined;
  visits += 1;
  root.replaceChildren();
  const path = location.pathname;
  setNav(path);
  let params: string[] = [];
  const route = routes.find((r) => {
    const m = r.re.exec(path);
    if (m) params = m.slice(1).map(decodeURIComponent);
    return m;
  });
  const title = Object.assign(document.createElement('h1'), {
    className: 'view-title',
    tabIndex: -1,
    textContent: route?.title ?? 'Not found',
  });
  root.append(title);
  document.title = `${title.textContent} · posfleet`;
  if (!route) {
    const p = document.createElement('p');
    p.append(
      'There is no page at this address. ',
      Object.assign(document.createElement('a'), { href: '/ui/', textContent: 'Go to the overview' }),
    );
    root.append(p);
  } else {
    const body = Object.assign(document.createElement('div'), { className: 'view-body' });
    root.append(body);
    const ctx: ViewContext = {
      announce,
      toast,
      confirm: confirmDialog,
      navigate,
      params,
      query: new URLSearchParams(location.search),
      setTitle: (text) => {
        title.textContent = text;
        document.title = `${text} · posfleet`;
      },
    };
    const visit = visits;
    void mountWhenLoaded(
      body,
      route.load,
      (page) => (current = preactView(page)(body, ctx)),
      () => visit === visits,
    );
  }
  if (focus) title.focus({ preventScroll: false });
}

// In-app links: no page reload, history kept.
document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target instanceof Element ? e.target.closest('a[href]') : null;
  if (!(a instanceof HTMLAnchorElement) || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith('/ui') || url.pathname.startsWith('/ui/assets/')) return;
  if (!tokenStore.get()) return;
  e.preventDefault();
  if (url.pathname + url.search === location.pathname + location.search) return;
  navigate(url.pathname + url.search + url.hash);
});
window.addEventListener('popstate', () => tokenStore.get() && show());

// --- live -------------------------------------------------------------------------------------

const statusText: Record<string, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  unauthorized: 'Not live',
  closed: 'Offline',
};

function setLive(state: StreamState) {
  // The token was revoked or its user disabled while the page was open.
  if (state === 'unauthorized') return showSignIn('Your session has ended (the token is no longer valid). Sign in again.');
  const node = el('live-status', HTMLElement);
  node.dataset.state = state;
  const label = node.querySelector('.live-label');
  if (label) label.textContent = statusText[state] ?? state;
  node.title = state === 'live' ? 'Live updates are on' : 'Live updates are paused; the page reconnects by itself';
}

function onLiveEvent(name: string, data: Record<string, unknown>) {
  if (name === 'fault.opened') {
    announce(`New ${String(data.severity)} fault: ${String(data.title)} on ${String(data.serial ?? data.deviceId)}`);
  }
  current?.onEvent?.(name, data);
  dispatchLive(name, data);
}

// --- session ----------------------------------------------------------------------------------

function showSignIn(message?: string) {
  current?.unmount?.();
  current = undefined;
  visits += 1; // a page still loading is not mounted behind the sign-in form
  stream?.close();
  stream = null;
  tokenStore.set(null);
  setMe(null);
  el('signin', HTMLElement).hidden = false;
  el('view', HTMLElement).hidden = true;
  el('mainnav', HTMLElement).hidden = true;
  el('session', HTMLElement).hidden = true;
  el('signin-error', HTMLElement).textContent = message ?? '';
  const input = el('token', HTMLInputElement);
  input.value = '';
  document.title = 'Sign in · posfleet';
  input.focus();
}

async function signIn(token: string, { focus = true } = {}) {
  const me = await api.call(MeSchema, 'GET', '/v1/me', { token });
  tokenStore.set(token);
  setMe(me);
  await loadCapabilities();
  el('signin', HTMLElement).hidden = true;
  el('view', HTMLElement).hidden = false;
  el('mainnav', HTMLElement).hidden = false;
  el('session', HTMLElement).hidden = false;
  el('who', HTMLElement).textContent = `${me.name} (${me.role})`;
  document.body.dataset.role = me.role;
  stream?.close();
  stream = openStream({ token, onEvent: onLiveEvent, onStatus: setLive });
  // After the form, focus moves to the page heading; on a reload the page starts at the top
  // (skip link first), as any page does.
  show({ focus });
}

setUnauthorizedHandler(() => showSignIn('Your session has ended (the token is no longer valid). Sign in again.'));

el('signin-form', HTMLFormElement).addEventListener('submit', async (e) => {
  e.preventDefault();
  const input = el('token', HTMLInputElement);
  const token = input.value.trim();
  const err = el('signin-error', HTMLElement);
  if (!token) {
    err.textContent = 'Enter your API token.';
    input.focus();
    return;
  }
  err.textContent = '';
  const btn = e.submitter instanceof HTMLButtonElement ? e.submitter : null;
  if (btn) btn.disabled = true;
  try {
    await signIn(token);
  } catch (ex) {
    err.textContent =
      ex instanceof ApiError && ex.status === 401 ? 'That token is not valid.' : ex instanceof Error ? ex.message : String(ex);
    input.focus();
  } finally {
    if (btn) btn.disabled = false;
  }
});

el('signout', HTMLButtonElement).addEventListener('click', () => showSignIn('You are signed out.'));

// Already signed in in this tab (a reload): go straight to the page.
const saved = tokenStore.get();
if (saved) signIn(saved, { focus: false }).catch(() => showSignIn('Sign in again.'));
else showSignIn();

// The one HTML page of the dashboard, rendered on the server with Hono JSX. It holds the
// landmarks, the navigation, the sign-in form and the live region; the client script
// (client/console/, bundled as /ui/assets/console.js) fills <main> with the view of the current address, from the API.
import type { FC } from 'hono/jsx';

export interface NavItem {
  href: string;
  label: string;
  /** Matches the paths that belong to this item. */
  match: RegExp;
}

export const navItems: NavItem[] = [
  { href: '/ui/', label: 'Overview', match: /^\/ui\/?$/ },
  { href: '/ui/faults', label: 'Faults', match: /^\/ui\/faults/ },
  { href: '/ui/devices', label: 'Devices', match: /^\/ui\/devices/ },
  { href: '/ui/groups', label: 'Groups & filters', match: /^\/ui\/groups/ },
  { href: '/ui/parameters', label: 'Parameters', match: /^\/ui\/parameters/ },
  { href: '/ui/rollouts', label: 'Rollouts & keys', match: /^\/ui\/rollouts/ },
  { href: '/ui/keys', label: 'Keys', match: /^\/ui\/keys/ },
  { href: '/ui/merchants', label: 'Merchants', match: /^\/ui\/merchants/ },
  { href: '/ui/map', label: 'Map', match: /^\/ui\/map/ },
  { href: '/ui/firmware', label: 'Firmware & apps', match: /^\/ui\/firmware/ },
  { href: '/ui/audit', label: 'Audit', match: /^\/ui\/audit/ },
  { href: '/ui/users', label: 'Users', match: /^\/ui\/users/ },
  { href: '/ui/orgs', label: 'Organisations', match: /^\/ui\/orgs/ },
];

const titles: [RegExp, string][] = [
  [/^\/ui\/faults/, 'Fault queue'],
  [/^\/ui\/devices\/[^/]+/, 'Device'],
  [/^\/ui\/devices/, 'Devices'],
  [/^\/ui\/groups/, 'Groups and saved filters'],
  [/^\/ui\/parameters/, 'Terminal parameters'],
  [/^\/ui\/rollouts/, 'Rollouts and key rotations'],
  [/^\/ui\/merchants/, 'Merchants and re-binding approvals'],
  [/^\/ui\/map/, 'Map of terminals and geofences'],
  [/^\/ui\/firmware/, 'Firmware and app packages'],
  [/^\/ui\/audit/, 'Audit log'],
  [/^\/ui\/users/, 'Users and tokens'],
  [/^\/ui\/orgs/, 'Organisations and allocation'],
];

export const pageTitle = (path: string) => titles.find(([re]) => re.test(path))?.[1] ?? 'Fleet overview';

export const Shell: FC<{ path: string; version: string; assetTag: string }> = ({ path, version, assetTag }) => {
  const title = pageTitle(path);
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>{`${title} · posfleet`}</title>
        <link rel="stylesheet" href={`/ui/assets/app.css?v=${assetTag}`} />
        {/* The pages' own stylesheets (Leaflet's for the map), bundled with the console (bundle.ts). */}
        <link rel="stylesheet" href={`/ui/assets/console.css?v=${assetTag}`} />
        <link rel="icon" href="/ui/assets/icon.svg" type="image/svg+xml" />
        <script type="module" src={`/ui/assets/console.js?v=${assetTag}`}></script>
      </head>
      <body>
        <a class="skip-link" href="#main">
          Skip to content
        </a>
        <header class="topbar">
          <div class="brand">
            <a href="/ui/" class="brand-link">
              <span class="brand-mark" aria-hidden="true">
                ▣
              </span>{' '}
              posfleet
            </a>
          </div>
          <nav class="mainnav" aria-label="Main" hidden id="mainnav">
            <ul>
              {navItems.map((item) => (
                <li>
                  <a href={item.href} aria-current={item.match.test(path) ? 'page' : undefined}>
                    {item.label}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
          <div class="session" id="session" hidden>
            <span class="live-status" id="live-status" data-state="connecting">
              <span class="dot" aria-hidden="true"></span>
              <span class="live-label">Connecting…</span>
            </span>
            <span class="who" id="who"></span>
            <button type="button" class="btn btn-quiet" id="signout">
              Sign out
            </button>
          </div>
        </header>
        <main id="main" tabindex={-1}>
          <section id="signin" class="signin" aria-labelledby="signin-title">
            <h1 id="signin-title">Sign in to posfleet</h1>
            <p>Use your API token. It is kept in this browser tab only and sent with every request.</p>
            <form id="signin-form" class="card form-stack" novalidate>
              <label for="token">API token</label>
              <input
                id="token"
                name="token"
                type="password"
                autocomplete="off"
                spellcheck={false}
                required
                aria-describedby="signin-error"
              />
              <p id="signin-error" class="form-error" role="alert"></p>
              <button type="submit" class="btn btn-primary">
                Sign in
              </button>
            </form>
          </section>
          <div id="view" hidden>
            <h1 class="view-title" tabindex={-1}>
              {title}
            </h1>
            <p class="loading">Loading…</p>
          </div>
          <noscript>
            <p class="card">
              The dashboard needs JavaScript. The API is documented at <a href="/docs">/docs</a>.
            </p>
          </noscript>
        </main>
        <div id="announcer" class="visually-hidden" aria-live="polite" aria-atomic="true"></div>
        <div id="toasts" class="toasts" role="status" aria-live="polite"></div>
        <dialog id="confirm" class="dialog" aria-labelledby="confirm-title" aria-describedby="confirm-body">
          <form method="dialog" class="form-stack">
            <h2 id="confirm-title">Are you sure?</h2>
            <div id="confirm-body"></div>
            <div class="dialog-actions">
              <button value="cancel" class="btn" id="confirm-cancel" formNoValidate>
                Cancel
              </button>
              <button value="ok" class="btn btn-primary" id="confirm-ok">
                Confirm
              </button>
            </div>
          </form>
        </dialog>
        <footer class="footer">
          <p>
            posfleet {version} · <a href="/docs">API docs</a>
          </p>
        </footer>
      </body>
    </html>
  );
};

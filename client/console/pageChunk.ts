// A page arrives as a chunk of its own (server/dashboard/bundle.ts splits the console at each
// import() of the router, client/console/main.tsx): until it has, the view says it is loading;
// if it cannot arrive, the view says to reload.
import type { JSX } from 'preact';
import type { ViewContext } from './viewContract.ts';

export type Page = (props: { ctx: ViewContext }) => JSX.Element;

function note(className: string, role: string, text: string): HTMLParagraphElement {
  return Object.assign(document.createElement('p'), { className, textContent: text, role });
}

/**
 * Shows "Loading…" in `body` until `load` gives the page, then hands it to `mount`. A failed
 * chunk (the network dropped, or the server was redeployed and the old chunk's name is gone)
 * asks for a reload: the browser remembers a failed import() and would not fetch it again.
 * `stillWanted` turns false once another address was shown meanwhile; a late page is dropped.
 */
export async function mountWhenLoaded(
  body: HTMLElement,
  load: () => Promise<Page>,
  mount: (page: Page) => void,
  stillWanted: () => boolean,
) {
  body.setAttribute('aria-busy', 'true');
  body.replaceChildren(note('loading', 'status', 'Loading…'));
  let page: Page;
  try {
    page = await load();
  } catch {
    if (!stillWanted()) return;
    body.removeAttribute('aria-busy');
    const reload = Object.assign(document.createElement('button'), { type: 'button', className: 'btn', textContent: 'Reload' });
    reload.addEventListener('click', () => location.reload());
    const failed = note(
      'form-error page-load-failed',
      'alert',
      'This page could not be loaded (the connection dropped or the console was updated). Reload the page to try again. ',
    );
    failed.append(reload);
    body.replaceChildren(failed);
    return;
  }
  if (!stillWanted()) return;
  body.removeAttribute('aria-busy');
  body.replaceChildren();
  mount(page);
}

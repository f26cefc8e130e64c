// router.js — client-side routes for a portal served at one base path
// (/portal, /admin). A portal is a list of screen modules; each screen is
// data the router, the sidebar and the guards read:
//
//   export default {
//     id: 'users', path: '/users', title: 'Users', nav: 'Team',   // nav group; false = hidden
//     roles: ['tenant_admin', 'super_admin'],                     // who may open it (omit: everyone)
//     render(ctx) { ... return node },                           // ctx: params, query, navigate, onLeave
//   }
//
// A screen may also be registered lazily: the same fields with
// `load: () => import('./screens/x.js')` instead of render; its module
// (whose default export has render) is fetched the first time it is opened,
// so it costs nothing on the portal's first load.
//
// Adding a screen (CRM leads, CMS pages, workflows …) is one module plus
// one line in the portal's screen list; nothing else changes.

import { h, mount } from './ui.js';

function compile(path) {
  const names = [];
  const re = path
    .split('/')
    .map((seg) => {
      if (seg.startsWith(':')) {
        names.push(seg.slice(1));
        return '([^/]+)';
      }
      return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { re: new RegExp(`^${re || '/'}/?$`), names };
}

/**
 * createRouter: base ('/portal'), screens, outlet (the <main>), allowed(screen)
 * -> bool, denied(screen) -> node, onChange(screen) after each render.
 * Returns {navigate(path), start(), current()}.
 */
export function createRouter({ base, screens, outlet, allowed, denied, notFound, onChange, appTitle }) {
  const table = screens.map((s) => ({ screen: s, ...compile(s.path) }));
  let leave = [];
  let current = null;
  let first = true;

  function match(pathname) {
    let rest = pathname.startsWith(base) ? pathname.slice(base.length) : pathname;
    if (!rest) rest = '/';
    for (const t of table) {
      const m = t.re.exec(rest);
      if (m) {
        const params = {};
        t.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1])));
        return { screen: t.screen, params };
      }
    }
    return null;
  }

  async function render() {
    for (const fn of leave) fn();
    leave = [];
    const hit = match(location.pathname);
    current = hit ? hit.screen : null;
    const ctx = {
      params: hit ? hit.params : {},
      query: new URLSearchParams(location.search),
      navigate,
      onLeave: (fn) => leave.push(fn),
    };
    let node;
    if (!hit) node = notFound();
    else if (allowed && !allowed(hit.screen)) node = denied(hit.screen);
    else {
      try {
        const impl = hit.screen.render ? hit.screen : (await hit.screen.load()).default;
        node = await impl.render.call(hit.screen, ctx);
      } catch (e) {
        node = h('div', { role: 'alert', class: 'card' }, h('h1', null, 'Something went wrong'), h('p', null, e.message || String(e)));
      }
    }
    mount(outlet, node);
    document.title = `${hit ? hit.screen.title : 'Not found'} · ${appTitle}`;
    // after a navigation (not the first load: the skip link comes first
    // then), move focus to the new screen's heading so it is announced
    const h1 = outlet.querySelector('h1');
    if (h1 && !first) {
      h1.setAttribute('tabindex', '-1');
      h1.focus({ preventScroll: true });
    }
    first = false;
    onChange && onChange(current);
  }

  function navigate(path, { replace = false } = {}) {
    const url = path.startsWith(base) ? path : base + (path === '/' ? '' : path);
    if (replace) history.replaceState(null, '', url);
    else history.pushState(null, '', url);
    render();
  }

  function start() {
    window.addEventListener('popstate', render);
    // same-portal links navigate without a reload
    document.addEventListener('click', (ev) => {
      const a = ev.target.closest && ev.target.closest('a[href]');
      if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || a.target) return;
      const url = new URL(a.href, location.href);
      if (url.origin !== location.origin || !(url.pathname === base || url.pathname.startsWith(`${base}/`))) return;
      ev.preventDefault();
      navigate(url.pathname + url.search);
    });
    return render();
  }

  return { navigate, start, current: () => current, href: (p) => (p === '/' ? base : base + p) };
}

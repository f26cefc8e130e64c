// shell.js — the frame every portal shares: the session guard, the header
// (menu button, brand, portal switcher, theme toggle, user menu with sign
// out), the sidebar built from the screen registry, the 403 page, and the
// router. A portal's app.js is one call to startPortal().

import { api, clearSession, hasRole, logout, refreshUser, session, user } from './api.js';
import { notificationsBell } from './notify.js';
import { createRouter } from './router.js';
import { h, mount, nextId, toast } from './ui.js';

// ---- theme ------------------------------------------------------------------------

function currentTheme() {
  const t = document.documentElement.dataset.theme;
  if (t) return t;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

/** themeToggle: a button switching light/dark, remembered in localStorage. */
export function themeToggle() {
  const b = h(
    'button',
    { type: 'button', class: 'small', 'aria-pressed': String(currentTheme() === 'dark') },
    h('span', { 'aria-hidden': 'true' }, '◐'),
    h('span', { class: 'hide-narrow' }, ' Dark theme'),
    h('span', { class: 'visually-hidden show-narrow' }, 'Dark theme'),
  );
  b.addEventListener('click', () => {
    const next = currentTheme() === 'dark' ? 'light' : 'dark';
    document.documentElement.dataset.theme = next;
    localStorage.setItem('bz.theme', next);
    b.setAttribute('aria-pressed', String(next === 'dark'));
  });
  return b;
}

// ---- menus --------------------------------------------------------------------------

/** menuButton: a disclosure menu (button + list), closed by Escape or a click outside. */
export function menuButton(label, items, { id = nextId('menu'), buttonLabel } = {}) {
  const list = h('ul', { id, hidden: true }, items.filter(Boolean).map((i) => h('li', null, i)));
  const btn = h('button', { type: 'button', class: 'small', 'aria-expanded': 'false', 'aria-controls': id, 'aria-label': buttonLabel || null }, label);
  const wrap = h('div', { class: 'menu' }, btn, list);
  const set = (open) => {
    list.hidden = !open;
    btn.setAttribute('aria-expanded', String(open));
    if (open) list.querySelector('a, button')?.focus();
  };
  btn.addEventListener('click', () => set(list.hidden));
  wrap.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && !list.hidden) {
      set(false);
      btn.focus();
    }
  });
  document.addEventListener('click', (ev) => {
    if (!wrap.contains(ev.target)) set(false);
  });
  return wrap;
}

/** portalSwitcher: the SSO portal list from /api/v1/auth/sso/platforms
 * (only the ones this user may open), the current one marked. */
export function portalSwitcher(currentId) {
  const box = h('div', { class: 'menu' }, h('button', { type: 'button', class: 'small', disabled: true }, 'Portals'));
  api('GET', '/api/v1/auth/sso/platforms')
    .then((r) => {
      const links = r.platforms
        .filter((p) => p.accessible)
        .map((p) => h('a', { href: p.url, 'data-platform': p.id, 'aria-current': p.id === currentId ? 'true' : null }, p.name));
      box.replaceWith(menuButton('Portals', links, { id: 'portal-menu', buttonLabel: 'Switch portal' }));
    })
    .catch(() => {});
  return box;
}

/** portalList: the portals this user may open, as a plain list of links. */
function portalList(currentId) {
  const ul = h('ul', { 'aria-label': 'Your portals' });
  api('GET', '/api/v1/auth/sso/platforms')
    .then((r) => ul.replaceChildren(...r.platforms.filter((p) => p.accessible && p.id !== currentId).map((p) => h('li', null, h('a', { href: p.url, 'data-platform': p.id }, p.name)))))
    .catch(() => {});
  return ul;
}

async function signOut() {
  await logout();
  location.assign('/login');
}

// ---- 403 -------------------------------------------------------------------------------

/** forbiddenPage: a full page for a signed-in user without access. */
export function forbiddenPage(what, currentId) {
  const u = user();
  return h(
    'main',
    { class: 'center-page', id: 'main' },
    h(
      'div',
      { class: 'card center-card' },
      h('h1', null, '403 — no access'),
      h('p', null, `${u ? u.email : 'This account'} may not open ${what}.`),
      h('p', { class: 'muted' }, 'Ask a platform administrator if you need it, or open a portal you can use:'),
      portalList(currentId),
      h('div', { class: 'row' }, h('button', { type: 'button', onclick: signOut }, 'Sign out')),
    ),
  );
}

// ---- the portal --------------------------------------------------------------------------

/**
 * startPortal: guards the session, then renders the layout and routes.
 * opts: id (SSO platform id), title, base ('/portal'), screens (registry),
 * roles (who may open the portal at all; omit = any signed-in user).
 */
export async function startPortal({ id, title, base, screens, roles }) {
  const root = document.getElementById('app');
  const next = encodeURIComponent(location.pathname + location.search);
  if (!session()) {
    location.replace(`/login?next=${next}`);
    return;
  }
  try {
    await refreshUser(); // checks the token (refreshing it if needed) and the roles
  } catch (e) {
    if (e.status === 401) return; // api() already sent us to the login page
    toast(`Could not check your session: ${e.message}`, 'error');
  }
  if (roles && !hasRole(...roles)) {
    document.title = `403 · ${title}`;
    mount(root, forbiddenPage(`the ${title.toLowerCase()}`, id));
    root.querySelector('h1')?.focus?.();
    return;
  }

  const u = user();
  const allowed = (s) => !s.roles || hasRole(...s.roles);
  const navList = h('ul');
  const sidebar = h('aside', { class: 'sidebar', id: 'sidebar', 'aria-label': 'Sections' }, h('nav', { 'aria-label': title }, navList));
  const outlet = h('main', { id: 'main', tabindex: '-1' });
  const menuBtn = h('button', { type: 'button', class: 'small menu-toggle', 'aria-expanded': 'false', 'aria-controls': 'sidebar' }, 'Menu');
  menuBtn.addEventListener('click', () => {
    const open = !sidebar.classList.contains('open');
    sidebar.classList.toggle('open', open);
    menuBtn.setAttribute('aria-expanded', String(open));
  });

  const userMenu = menuButton(
    h('span', null, h('span', { class: 'hide-narrow' }, u.name || u.email), h('span', { 'aria-hidden': 'true' }, ' ▾')),
    [
      h('span', { class: 'muted' }, u.email),
      h('span', { class: 'muted' }, `Roles: ${(u.roles || []).join(', ')}`),
      screens.some((s) => s.id === 'account') ? h('a', { href: `${base}/account` }, 'Your account') : null,
      h('a', { href: '#', id: 'sign-out', onclick: (ev) => (ev.preventDefault(), signOut()) }, 'Sign out'),
    ],
    { id: 'user-menu', buttonLabel: `Account: ${u.email}` },
  );

  mount(
    root,
    h('a', { class: 'skip-link', href: '#main' }, 'Skip to content'),
    h(
      'div',
      { class: 'app' },
      h(
        'header',
        { class: 'app-header' },
        menuBtn,
        h('a', { class: 'brand', href: base, 'aria-label': `BizOSaaS ${title}` }, h('img', { src: '/assets/shared/favicon.svg', alt: '' }), h('span', { class: 'hide-narrow' }, 'BizOSaaS'), h('span', { class: 'muted hide-narrow' }, title)),
        h('div', { class: 'header-spacer' }),
        portalSwitcher(id),
        // tenant staff get notifications (notifications.view)
        u.tenant_id && hasRole('tenant_admin', 'manager') ? notificationsBell(base) : null,
        themeToggle(),
        userMenu,
      ),
      sidebar,
      outlet,
    ),
  );

  const router = createRouter({
    base,
    screens,
    outlet,
    appTitle: title,
    allowed,
    denied: (s) => h('div', { class: 'card' }, h('h1', null, '403 — no access'), h('p', null, `Your roles do not include ${s.title}.`)),
    notFound: () => h('div', { class: 'card' }, h('h1', null, 'Not found'), h('p', null, 'This page does not exist.'), h('a', { href: base }, 'Back to the dashboard')),
    onChange: (cur) => {
      for (const a of navList.querySelectorAll('a')) a.toggleAttribute('aria-current', a.dataset.screen === cur?.id);
      for (const a of navList.querySelectorAll('a[aria-current]')) a.setAttribute('aria-current', 'page');
      sidebar.classList.remove('open');
      menuBtn.setAttribute('aria-expanded', 'false');
    },
  });

  // the sidebar: grouped by nav title, only screens this user may open
  const groups = new Map();
  for (const s of screens) {
    if (s.nav === false || !allowed(s)) continue;
    const g = s.nav || '';
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g).push(s);
  }
  for (const [g, list] of groups) {
    if (g) navList.append(h('li', { class: 'nav-title', role: 'presentation' }, g));
    for (const s of list) navList.append(h('li', null, h('a', { href: router.href(s.path), 'data-screen': s.id }, s.title)));
  }

  window.addEventListener('storage', (ev) => {
    // signed out in another tab
    if (ev.key === 'bz.session' && !ev.newValue) location.assign('/login');
  });
  await router.start();
  return router;
}

export { clearSession };

// dashboard.js — the client portal's home: the CRM's KPI cards and leads
// chart (crm-kpis.js, fetched only for roles that read leads), who you are,
// your organisation and the portals you can open.

import { api, hasRole, user } from '../../shared/api.js';
import { fmtTime, h, pageHead } from '../../shared/ui.js';

export default {
  id: 'dashboard',
  path: '/',
  title: 'Dashboard',
  nav: '',
  async render() {
    const u = user();
    const tenantCard = h('div', { class: 'card' }, h('h2', null, 'Organisation'), h('p', { class: 'muted loading' }, 'Loading…'));
    if (u.tenant_id) {
      api('GET', `/api/v1/auth/tenants/${u.tenant_id}`)
        .then((t) =>
          tenantCard.replaceChildren(
            h('h2', null, 'Organisation'),
            h('dl', { class: 'props' }, h('dt', null, 'Name'), h('dd', null, t.name), h('dt', null, 'Plan'), h('dd', null, t.plan), h('dt', null, 'Status'), h('dd', null, t.status), h('dt', null, 'Domains'), h('dd', null, t.domains.join(', ') || '—')),
          ),
        )
        .catch(() => tenantCard.replaceChildren(h('h2', null, 'Organisation'), h('p', { class: 'muted' }, 'Your roles do not include the organisation details.')));
    }
    const portals = h('ul');
    api('GET', '/api/v1/auth/sso/platforms')
      .then((r) => portals.replaceChildren(...r.platforms.filter((p) => p.accessible).map((p) => h('li', null, h('a', { href: p.url }, p.name)))))
      .catch(() => {});
    const crm = h('div');
    if (u.tenant_id && hasRole('tenant_admin', 'manager', 'client'))
      import('./crm-kpis.js').then((m) => crm.replaceChildren(m.crmSection())).catch(() => {});
    return h(
      'section',
      null,
      pageHead(`Welcome, ${u.name || u.email}`),
      crm,
      h(
        'div',
        { class: 'grid' },
        h(
          'div',
          { class: 'card' },
          h('h2', null, 'You'),
          h('dl', { class: 'props' }, h('dt', null, 'E-mail'), h('dd', null, u.email), h('dt', null, 'Roles'), h('dd', null, u.roles.join(', ')), h('dt', null, 'Last sign-in'), h('dd', null, fmtTime(u.last_login_at)), h('dt', null, 'Two-factor'), h('dd', null, u.totp_enabled ? 'on' : 'off')),
        ),
        tenantCard,
        h('div', { class: 'card' }, h('h2', null, 'Your portals'), portals),
      ),
    );
  },
};

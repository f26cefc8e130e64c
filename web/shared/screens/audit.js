// audit.js — the security audit log (/api/v1/auth/audit): the own tenant
// for a tenant_admin, every tenant (with a tenant filter) for super_admin.

import { api, qs } from '../api.js';
import { dataTable, fmtTime, h, nextId, pageHead } from '../ui.js';

export function auditScreen({ platform = false, nav = 'Security' } = {}) {
  return {
    id: 'audit',
    path: '/audit',
    title: platform ? 'Audit log (all tenants)' : 'Audit log',
    nav,
    roles: platform ? ['super_admin'] : ['tenant_admin', 'super_admin'],
    render() {
      const filters = { event: '', tenant_id: '' };
      const input = (name, label, hint) => {
        const id = nextId(name);
        const el = h('input', { id, name, placeholder: hint });
        return { el, box: h('div', { class: 'inline-field' }, h('label', { for: id }, label), el) };
      };
      const ev = input('event', 'Event', 'e.g. login.failure');
      const tn = platform ? input('tenant_id', 'Tenant id', 'any tenant') : null;
      const table = dataTable({
        caption: 'Audit events, newest first',
        columns: [
          { key: 'created_at', label: 'Time', sortable: true, render: (r) => fmtTime(r.created_at) },
          { key: 'event', label: 'Event', sortable: true },
          platform && { key: 'tenant_id', label: 'Tenant', sortable: true, render: (r) => h('code', null, r.tenant_id) },
          { key: 'actor_id', label: 'Actor', render: (r) => (r.actor_id ? h('code', null, r.actor_id) : '—') },
          { key: 'subject_id', label: 'Subject', render: (r) => (r.subject_id ? h('code', null, r.subject_id) : '—') },
          { key: 'ip', label: 'Address', sortable: true, render: (r) => r.ip || '—' },
          { key: 'details', label: 'Details', render: (r) => (r.details && Object.keys(r.details).length ? h('code', null, JSON.stringify(r.details)) : '—') },
        ].filter(Boolean),
        load: ({ cursor }) => api('GET', `/api/v1/auth/audit${qs({ limit: 50, cursor, ...filters })}`),
        emptyTitle: 'No audit events match.',
      });
      const apply = (e) => {
        e.preventDefault();
        filters.event = ev.el.value.trim();
        if (tn) filters.tenant_id = tn.el.value.trim();
        table.reload();
      };
      return h(
        'section',
        null,
        pageHead(this.title),
        h('form', { class: 'toolbar', role: 'search', 'aria-label': 'Filter the audit log', onsubmit: apply }, ev.box, tn ? tn.box : null, h('button', { type: 'submit' }, 'Filter')),
        table.el,
      );
    },
  };
}

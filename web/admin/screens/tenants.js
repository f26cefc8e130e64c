// tenants.js — every tenant: create, suspend, reactivate.

import { api, qs } from '../../shared/api.js';
import { badge, confirmAction, dataTable, dialog, fmtTime, form, h, pageHead, toast } from '../../shared/ui.js';

const PLANS = ['free', 'starter', 'professional', 'enterprise'].map((p) => ({ value: p, label: p }));

export default {
  id: 'tenants',
  path: '/tenants',
  title: 'Tenants',
  nav: 'Tenants',
  roles: ['super_admin'],
  render() {
    const table = dataTable({
      caption: 'Tenants',
      rowLabel: (t) => t.slug,
      columns: [
        { key: 'name', label: 'Name', sortable: true },
        { key: 'slug', label: 'Slug', sortable: true, render: (t) => h('code', null, t.slug) },
        { key: 'plan', label: 'Plan', sortable: true },
        { key: 'status', label: 'Status', sortable: true, render: (t) => badge(t.status) },
        { key: 'domains', label: 'Domains', render: (t) => t.domains.join(', ') || '—' },
        { key: 'created_at', label: 'Created', sortable: true, render: (t) => fmtTime(t.created_at) },
        {
          key: 'actions', label: 'Actions',
          render: (t) => {
            const suspend = t.status === 'active';
            return h('button', {
              type: 'button', class: suspend ? 'small danger' : 'small', 'aria-label': `${suspend ? 'Suspend' : 'Reactivate'} ${t.name}`,
              onclick: async () => {
                if (suspend && !(await confirmAction(`Suspend ${t.name}`, 'Its users are signed out and cannot sign in until the tenant is reactivated.', 'Suspend'))) return;
                try {
                  await api('PATCH', `/api/v1/auth/tenants/${t.id}`, { status: suspend ? 'suspended' : 'active' });
                  toast(`${t.name} ${suspend ? 'suspended' : 'reactivated'}`, 'success');
                  table.reload({ quiet: true });
                } catch (e) {
                  toast(e.message, 'error');
                }
              },
            }, suspend ? 'Suspend' : 'Reactivate');
          },
        },
      ],
      load: ({ cursor }) => api('GET', `/api/v1/auth/tenants${qs({ limit: 50, cursor })}`),
      emptyTitle: 'No tenants yet.',
    });
    const create = () => {
      const d = dialog(
        'Create a tenant',
        form({
          fields: [
            { name: 'name', label: 'Name', required: true },
            { name: 'slug', label: 'Slug', required: true, hint: 'Lower-case letters, digits and dashes; used in URLs.' },
            { name: 'plan', label: 'Plan', type: 'select', options: PLANS, value: 'free' },
            { name: 'domains', label: 'Domains', hint: 'Comma-separated host names (optional).' },
          ],
          submitLabel: 'Create tenant',
          onCancel: () => d.close(),
          onSubmit: async (v) => {
            const body = { name: v.name, slug: v.slug, plan: v.plan };
            if (v.domains) body.domains = v.domains.split(',').map((s) => s.trim()).filter(Boolean);
            const t = await api('POST', '/api/v1/auth/tenants', body);
            d.close();
            toast(`Tenant ${t.name} created`, 'success');
            table.reload();
          },
        }).el,
      );
    };
    return h('section', null, pageHead('Tenants', h('button', { type: 'button', class: 'primary', onclick: create }, 'Create tenant')), table.el);
  },
};

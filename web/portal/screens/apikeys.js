// apikeys.js — the tenant's API keys (tenant_admin): list, create (the key
// is shown once), revoke.

import { api } from '../../shared/api.js';
import { badge, confirmAction, dataTable, dialog, fmtTime, form, h, mount, pageHead, toast } from '../../shared/ui.js';

const ROLES = [
  { value: 'client', label: 'Client' },
  { value: 'manager', label: 'Manager' },
  { value: 'tenant_admin', label: 'Tenant admin' },
];

export default {
  id: 'api-keys',
  path: '/api-keys',
  title: 'API keys',
  nav: 'Security',
  roles: ['tenant_admin', 'super_admin'],
  render() {
    const table = dataTable({
      caption: 'API keys of your organisation',
      rowLabel: (k) => k.name,
      columns: [
        { key: 'name', label: 'Name', sortable: true },
        { key: 'prefix', label: 'Key', render: (k) => h('code', null, `${k.prefix}…`) },
        { key: 'role', label: 'Role', sortable: true },
        { key: 'scopes', label: 'Scopes', render: (k) => (k.scopes.length ? k.scopes.join(', ') : 'all of the role') },
        { key: 'active', label: 'Status', sortable: true, render: (k) => badge(k.active ? 'active' : 'revoked') },
        { key: 'last_used_at', label: 'Last used', sortable: true, render: (k) => fmtTime(k.last_used_at) },
        { key: 'created_at', label: 'Created', sortable: true, render: (k) => fmtTime(k.created_at) },
        {
          key: 'actions', label: 'Actions',
          render: (k) =>
            k.active
              ? h('button', {
                  type: 'button', class: 'small danger', 'aria-label': `Revoke ${k.name}`,
                  onclick: async () => {
                    if (!(await confirmAction(`Revoke ${k.name}`, 'Programs using this key stop working at once.', 'Revoke'))) return;
                    try {
                      await api('DELETE', `/api/v1/auth/api-keys/${k.id}`);
                      toast(`${k.name} revoked`, 'success');
                      table.reload({ quiet: true });
                    } catch (e) {
                      toast(e.message, 'error');
                    }
                  },
                }, 'Revoke')
              : '—',
        },
      ],
      load: () => api('GET', '/api/v1/auth/api-keys'),
      emptyTitle: 'No API keys yet.',
      emptyHint: 'Create one for a program that calls the API on your behalf.',
    });
    const create = () => {
      const box = h('div');
      const d = dialog('Create an API key', box);
      mount(
        box,
        form({
          fields: [
            { name: 'name', label: 'Name', required: true, hint: 'What uses it, e.g. "website contact form".' },
            { name: 'role', label: 'Role', type: 'select', options: ROLES, value: 'client' },
            { name: 'scopes', label: 'Scopes', hint: 'Comma-separated permissions (e.g. leads.view); empty = everything the role may do.' },
          ],
          submitLabel: 'Create key',
          onCancel: () => d.close(),
          onSubmit: async (v) => {
            const body = { name: v.name, role: v.role };
            if (v.scopes) body.scopes = v.scopes.split(',').map((s) => s.trim()).filter(Boolean);
            const k = await api('POST', '/api/v1/auth/api-keys', body);
            table.reload();
            mount(
              box,
              h('p', { role: 'status' }, 'Copy the key now: it is shown only once.'),
              h('p', null, h('code', { id: 'new-api-key' }, k.key)),
              h('button', { type: 'button', class: 'primary', onclick: () => d.close() }, 'Done'),
            );
            box.querySelector('button').focus();
          },
        }).el,
      );
    };
    return h('section', null, pageHead('API keys', h('button', { type: 'button', class: 'primary', onclick: create }, 'Create API key')), table.el);
  },
};

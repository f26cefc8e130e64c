// users.js — users and invitations, shared by both portals: in the client
// portal a tenant_admin manages their tenant (the API scopes the list);
// in the admin dashboard super_admin sees every tenant (with a tenant column).

import { api, qs, user as me } from '../api.js';
import { badge, confirmAction, dataTable, dialog, fmtTime, form, h, pageHead, toast } from '../ui.js';

const ROLE_OPTIONS = [
  { value: 'client', label: 'Client' },
  { value: 'manager', label: 'Manager' },
  { value: 'tenant_admin', label: 'Tenant admin' },
];

/** usersScreen: the screen module; platform = the cross-tenant admin view. */
export function usersScreen({ platform = false, nav = 'Team' } = {}) {
  return {
    id: 'users',
    path: '/users',
    title: platform ? 'Users (all tenants)' : 'Users & invitations',
    nav,
    roles: platform ? ['super_admin'] : ['tenant_admin', 'super_admin'],
    async render() {
      const tenants = new Map();
      if (platform) {
        try {
          const t = await api('GET', '/api/v1/auth/tenants?limit=200');
          for (const x of t.items) tenants.set(x.id, x);
        } catch {
          // the tenant column then shows ids
        }
      }
      let table;
      const act = async (fn, ok) => {
        try {
          await fn();
          toast(ok, 'success');
          table.reload({ quiet: true });
        } catch (e) {
          toast(e.message, 'error');
        }
      };
      const columns = [
        { key: 'email', label: 'E-mail', sortable: true },
        { key: 'name', label: 'Name', sortable: true, render: (u) => u.name || '—' },
        platform && {
          key: 'tenant', label: 'Tenant', sortable: true,
          value: (u) => tenants.get(u.tenant_id)?.slug || u.tenant_id,
          render: (u) => tenants.get(u.tenant_id)?.slug || u.tenant_id,
        },
        { key: 'roles', label: 'Roles', sortable: true, value: (u) => u.roles.join(','), render: (u) => u.roles.join(', ') },
        { key: 'active', label: 'Status', sortable: true, render: (u) => badge(u.active ? 'active' : 'disabled') },
        { key: 'last_login_at', label: 'Last sign-in', sortable: true, render: (u) => fmtTime(u.last_login_at) },
        {
          key: 'actions', label: 'Actions',
          render: (u) =>
            h(
              'div',
              { class: 'row' },
              h('button', { type: 'button', class: 'small', 'aria-label': `Edit ${u.email}`, onclick: () => edit(u) }, 'Edit'),
              u.id === me()?.id
                ? null
                : h(
                    'button',
                    {
                      type: 'button', class: 'small', 'aria-label': `${u.active ? 'Deactivate' : 'Activate'} ${u.email}`,
                      onclick: async () => {
                        if (u.active && !(await confirmAction('Deactivate user', `${u.email} will be signed out and cannot sign in.`, 'Deactivate'))) return;
                        act(() => api('PATCH', `/api/v1/auth/users/${u.id}`, { active: !u.active }), `${u.email} ${u.active ? 'deactivated' : 'activated'}`);
                      },
                    },
                    u.active ? 'Deactivate' : 'Activate',
                  ),
              h('button', {
                type: 'button', class: 'small', 'aria-label': `Unlock ${u.email}`,
                onclick: () => act(() => api('POST', `/api/v1/auth/users/${u.id}/unlock`), `${u.email} unlocked`),
              }, 'Unlock'),
            ),
        },
      ].filter(Boolean);

      table = dataTable({
        caption: platform ? 'Users of every tenant' : 'Users of your organisation',
        columns,
        rowLabel: (u) => u.email,
        load: ({ cursor }) => api('GET', `/api/v1/auth/users${qs({ limit: 50, cursor })}`),
        emptyTitle: 'No users yet.',
      });

      function edit(u) {
        const d = dialog(
          `Edit ${u.email}`,
          form({
            fields: [
              { name: 'name', label: 'Name', value: u.name },
              { name: 'role', label: 'Role', type: 'select', options: platform ? [...ROLE_OPTIONS, { value: 'super_admin', label: 'Super admin' }] : ROLE_OPTIONS, value: u.roles[0] },
            ],
            onCancel: () => d.close(),
            onSubmit: async (v) => {
              await api('PATCH', `/api/v1/auth/users/${u.id}`, { name: v.name || '', roles: [v.role] });
              d.close();
              toast(`${u.email} updated`, 'success');
              table.reload({ quiet: true });
            },
          }).el,
        );
      }

      function invite() {
        const d = dialog(
          'Invite someone',
          form({
            fields: [
              { name: 'email', label: 'E-mail', type: 'email', required: true, autocomplete: 'off' },
              { name: 'role', label: 'Role', type: 'select', options: ROLE_OPTIONS, value: 'client' },
            ],
            submitLabel: 'Send invitation',
            onCancel: () => d.close(),
            onSubmit: async (v) => {
              await api('POST', '/api/v1/auth/invitations', v);
              d.close();
              toast(`Invitation sent to ${v.email}`, 'success');
            },
          }).el,
        );
      }

      function add() {
        const d = dialog(
          'Add a user',
          form({
            fields: [
              { name: 'email', label: 'E-mail', type: 'email', required: true, autocomplete: 'off' },
              { name: 'name', label: 'Name' },
              { name: 'role', label: 'Role', type: 'select', options: ROLE_OPTIONS, value: 'client' },
              { name: 'password', label: 'Password', type: 'password', autocomplete: 'new-password', hint: 'Leave empty to mail a link for setting one.' },
              platform && { name: 'tenant_id', label: 'Tenant', type: 'select', required: true, options: [...tenants.values()].map((t) => ({ value: t.id, label: `${t.name} (${t.slug})` })) },
            ].filter(Boolean),
            submitLabel: 'Add user',
            onCancel: () => d.close(),
            onSubmit: async (v) => {
              const body = { email: v.email, name: v.name, password: v.password, roles: [v.role], tenant_id: v.tenant_id };
              const u = await api('POST', '/api/v1/auth/users', body);
              d.close();
              toast(`${u.email} added`, 'success');
              table.reload();
            },
          }).el,
        );
      }

      return h(
        'section',
        null,
        pageHead(
          this.title,
          platform ? null : h('button', { type: 'button', onclick: invite }, 'Invite'),
          h('button', { type: 'button', class: 'primary', onclick: add }, 'Add user'),
        ),
        table.el,
      );
    },
  };
}

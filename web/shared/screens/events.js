// events.js — recent domain events (/api/v1/events): the tenant's own for a
// tenant_admin ("Activity"), every tenant's with the subscribers' delivery
// state and lag for super_admin.

import { api, qs } from '../api.js';
import { dataTable, fmtTime, h, nextId, pageHead } from '../ui.js';

export function eventsScreen({ platform = false, nav = 'Security' } = {}) {
  return {
    id: 'events',
    path: '/events',
    title: platform ? 'Domain events' : 'Activity',
    nav,
    roles: platform ? ['super_admin'] : ['tenant_admin', 'super_admin'],
    render() {
      const filters = { type: '', aggregate_type: '', tenant_id: '' };
      const input = (name, label, hint) => {
        const id = nextId(name);
        const el = h('input', { id, name, placeholder: hint });
        return { name, el, box: h('div', { class: 'inline-field' }, h('label', { for: id }, label), el) };
      };
      const inputs = [input('type', 'Event type', 'e.g. UserCreated'), input('aggregate_type', 'Aggregate', 'e.g. user')];
      if (platform) inputs.push(input('tenant_id', 'Tenant id', 'any tenant'));
      const table = dataTable({
        caption: 'Domain events, newest first',
        rowLabel: (e) => e.id,
        columns: [
          { key: 'seq', label: '#', sortable: true, render: (e) => String(e.seq) },
          { key: 'created_at', label: 'Time', sortable: true, render: (e) => fmtTime(e.created_at) },
          { key: 'event_type', label: 'Event', sortable: true },
          { key: 'aggregate', label: 'Aggregate', render: (e) => h('code', null, `${e.aggregate_type}/${e.aggregate_id}`) },
          platform && { key: 'tenant_id', label: 'Tenant', sortable: true, render: (e) => h('code', null, e.tenant_id) },
          { key: 'payload', label: 'Payload', render: (e) => h('code', null, JSON.stringify(e.payload).slice(0, 160)) },
        ].filter(Boolean),
        load: ({ cursor }) => api('GET', `/api/v1/events${qs({ limit: 50, cursor, ...filters })}`),
        emptyTitle: 'No events match.',
      });
      const apply = (ev) => {
        ev.preventDefault();
        for (const i of inputs) filters[i.name] = i.el.value.trim();
        table.reload();
      };
      let subs = null;
      if (platform) {
        subs = dataTable({
          caption: 'Subscribers: delivery position and lag',
          rowLabel: (s) => s.name,
          columns: [
            { key: 'name', label: 'Subscriber', sortable: true },
            { key: 'lag', label: 'Lag (events)', sortable: true, render: (s) => String(s.lag) },
            { key: 'delivered', label: 'Delivered', sortable: true, render: (s) => String(s.delivered) },
            { key: 'attempts', label: 'Failing attempts', sortable: true, render: (s) => String(s.attempts) },
            { key: 'last_error', label: 'Last error', render: (s) => s.last_error || '—' },
          ],
          load: () => api('GET', '/api/v1/events/subscribers'),
          emptyTitle: 'No subscribers.',
        });
      }
      return h(
        'section',
        null,
        pageHead(this.title),
        subs ? subs.el : null,
        subs ? h('p') : null,
        h('form', { class: 'toolbar', role: 'search', 'aria-label': 'Filter the events', onsubmit: apply }, inputs.map((i) => i.box), h('button', { type: 'submit' }, 'Filter')),
        table.el,
      );
    },
  };
}

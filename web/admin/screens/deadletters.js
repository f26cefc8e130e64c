// deadletters.js — event deliveries that failed every attempt, with replay.

import { api, qs } from '../../shared/api.js';
import { badge, dataTable, fmtTime, h, nextId, pageHead, toast } from '../../shared/ui.js';

export default {
  id: 'dead-letters',
  path: '/events/dead-letters',
  title: 'Dead letters',
  nav: 'Platform',
  roles: ['super_admin'],
  render() {
    const filters = { status: 'dead', subscriber: '' };
    const table = dataTable({
      caption: 'Dead-lettered deliveries, newest first',
      rowLabel: (d) => d.id,
      columns: [
        { key: 'created_at', label: 'Dead since', sortable: true, render: (d) => fmtTime(d.created_at) },
        { key: 'subscriber', label: 'Subscriber', sortable: true },
        { key: 'event_type', label: 'Event', sortable: true },
        { key: 'aggregate', label: 'Aggregate', render: (d) => h('code', null, `${d.aggregate_type}/${d.aggregate_id}`) },
        { key: 'tenant_id', label: 'Tenant', sortable: true, render: (d) => h('code', null, d.tenant_id) },
        { key: 'attempts', label: 'Attempts', sortable: true, render: (d) => String(d.attempts) },
        { key: 'error', label: 'Last error', render: (d) => d.error || '—' },
        { key: 'status', label: 'Status', sortable: true, render: (d) => badge(d.status) },
        {
          key: 'actions', label: 'Actions',
          render: (d) =>
            d.status === 'dead'
              ? h('button', {
                  type: 'button', class: 'small', 'aria-label': `Replay ${d.event_type} to ${d.subscriber}`,
                  onclick: async () => {
                    try {
                      await api('POST', `/api/v1/events/dead-letters/${d.id}/replay`);
                      toast(`${d.event_type} queued for ${d.subscriber}`, 'success');
                      table.reload({ quiet: true });
                    } catch (e) {
                      toast(e.message, 'error');
                    }
                  },
                }, 'Replay')
              : '—',
        },
      ],
      load: () => api('GET', `/api/v1/events/dead-letters${qs({ limit: 200, ...filters })}`),
      emptyTitle: 'No dead letters.',
      emptyHint: 'Every event reached every subscriber.',
    });
    const id = nextId('status');
    const sel = h('select', { id }, ['dead', 'replay', 'replayed', ''].map((s) => h('option', { value: s, selected: s === 'dead' }, s || 'any')));
    sel.addEventListener('change', () => {
      filters.status = sel.value;
      table.reload();
    });
    return h(
      'section',
      null,
      pageHead('Event dead letters'),
      h('div', { class: 'toolbar' }, h('div', { class: 'inline-field' }, h('label', { for: id }, 'Status'), sel)),
      table.el,
    );
  },
};

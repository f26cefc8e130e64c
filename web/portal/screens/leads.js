// leads.js — CRM leads: the list (filters: status, source, minimum score,
// search; sort; cursor pages), a new-lead form, and a lead's page (score
// breakdown, status change along the allowed transitions, activities,
// conversion into a contact and a deal). Loaded when first opened.

import { api, qs } from '../../shared/api.js';
import { badge, dataTable, dialog, empty, errorState, fmtTime, form, h, loading, mount, pageHead, toast } from '../../shared/ui.js';

export const STATUSES = ['new', 'contacted', 'qualified', 'converted', 'lost'];
export const SOURCES = ['website', 'referral', 'social', 'email', 'event', 'ads', 'api', 'import'];
const PRIORITY = { high: 'bad', medium: 'warn', low: 'neutral' };
const opt = (v, l = v) => ({ value: v, label: l });

function priorityBadge(p) {
  return h('span', { class: `badge ${PRIORITY[p] || 'neutral'}` }, `${p} priority`);
}

function newLead(navigate) {
  let dlg;
  const f = form({
    fields: [
      { name: 'name', label: 'Name', required: true },
      { name: 'email', label: 'E-mail', type: 'email', required: true },
      { name: 'phone', label: 'Phone', type: 'tel' },
      { name: 'company', label: 'Company' },
      { name: 'website', label: 'Website' },
      { name: 'company_size', label: 'Company size (employees)', type: 'number', min: 0 },
      { name: 'budget', label: 'Monthly budget', type: 'number', min: 0 },
      { name: 'source', label: 'Source', type: 'select', options: SOURCES.map((s) => opt(s)), value: 'website' },
      { name: 'message', label: 'Message', type: 'textarea' },
    ],
    submitLabel: 'Create lead',
    onCancel: () => dlg.close(),
    onSubmit: async (v) => {
      const lead = await api('POST', '/api/v1/crm/leads', v);
      dlg.close();
      toast(`Lead created — score ${lead.score}`, 'success');
      navigate(`/leads/${lead.id}`);
    },
  });
  dlg = dialog('New lead', f.el);
}

function listScreen(ctx) {
  const filters = { status: ctx.query.get('status') || '', source: ctx.query.get('source') || '', score_min: ctx.query.get('score_min') || '', q: ctx.query.get('q') || '', sort: 'created', order: 'desc' };
  const table = dataTable({
    caption: 'Leads',
    emptyTitle: 'No leads match.',
    emptyHint: 'Change the filters, or create a lead.',
    rowLabel: (r) => r.id,
    columns: [
      { key: 'name', label: 'Name', sortable: true, render: (r) => h('a', { href: `/portal/leads/${r.id}` }, r.name) },
      { key: 'company', label: 'Company', sortable: true, render: (r) => r.company || '—' },
      { key: 'source', label: 'Source', sortable: true },
      { key: 'status', label: 'Status', sortable: true, render: (r) => badge(r.status) },
      { key: 'score', label: 'Score', sortable: true, render: (r) => h('span', null, String(r.score), ' ', priorityBadge(r.priority)) },
      { key: 'created_at', label: 'Created', sortable: true, render: (r) => fmtTime(r.created_at) },
    ],
    load: ({ cursor }) => api('GET', `/api/v1/crm/leads${qs({ ...filters, limit: 25, cursor })}`),
  });
  const sel = (name, label, values) =>
    h('div', { class: 'field' }, h('label', { for: `f-${name}` }, label), h('select', { id: `f-${name}`, name, onchange: (e) => set(name, e.target.value) }, h('option', { value: '' }, 'Any'), values.map((v) => h('option', { value: v, selected: filters[name] === v }, v))));
  function set(k, v) {
    filters[k] = v;
    table.reload();
  }
  let timer;
  const search = h('input', { id: 'f-q', type: 'search', value: filters.q, placeholder: 'Name, e-mail or company', oninput: (e) => (clearTimeout(timer), (timer = setTimeout(() => set('q', e.target.value.trim()), 250))) });
  const bar = h(
    'form',
    { class: 'filters row', role: 'search', 'aria-label': 'Filter leads', onsubmit: (e) => e.preventDefault() },
    h('div', { class: 'field' }, h('label', { for: 'f-q' }, 'Search'), search),
    sel('status', 'Status', STATUSES),
    sel('source', 'Source', SOURCES),
    h('div', { class: 'field' }, h('label', { for: 'f-score' }, 'Minimum score'), h('input', { id: 'f-score', type: 'number', min: 0, max: 100, value: filters.score_min, onchange: (e) => set('score_min', e.target.value) })),
    h('div', { class: 'field' }, h('label', { for: 'f-sort' }, 'Sort by'), h('select', { id: 'f-sort', onchange: (e) => set('sort', e.target.value) }, [opt('created', 'Newest'), opt('score', 'Score'), opt('name', 'Name')].map((o) => h('option', { value: o.value }, o.label)))),
  );
  return h('section', null, pageHead('Leads', h('button', { type: 'button', class: 'primary', onclick: () => newLead(ctx.navigate) }, 'New lead')), bar, table.el);
}

function breakdown(lead) {
  const b = lead.score_breakdown || {};
  const rows = Object.entries(b).filter(([k]) => k !== 'total');
  return h(
    'div',
    { class: 'card' },
    h('h2', null, 'Score'),
    h('p', null, h('strong', { class: 'score', 'data-score': lead.score }, `${lead.score} / 100`), ' ', priorityBadge(lead.priority)),
    h(
      'table',
      { class: 'breakdown' },
      h('caption', { class: 'visually-hidden' }, 'Score breakdown'),
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Factor'), h('th', { scope: 'col' }, 'Points'))),
      h('tbody', null, rows.map(([k, v]) => h('tr', null, h('th', { scope: 'row' }, k.replace('_', ' ')), h('td', null, h('meter', { min: 0, max: 25, value: v, 'aria-label': `${k} points` }), ` ${v}`)))),
    ),
  );
}

function activities(lead) {
  const box = h('div', null, loading());
  async function load() {
    try {
      const r = await api('GET', `/api/v1/crm/activities${qs({ lead_id: lead.id, limit: 50 })}`);
      mount(box, r.items.length ? h('ul', { class: 'timeline' }, r.items.map((a) => h('li', null, h('strong', null, a.kind), ' — ', a.subject, ' ', h('span', { class: 'muted' }, fmtTime(a.created_at)), a.done ? ' ' : null, a.done ? badge('done') : null))) : empty('No activities yet.'));
    } catch (e) {
      mount(box, errorState(e, load));
    }
  }
  const f = form({
    fields: [
      { name: 'kind', label: 'Kind', type: 'select', options: ['note', 'call', 'email', 'meeting', 'task'].map((k) => opt(k)) },
      { name: 'subject', label: 'Subject', required: true },
    ],
    submitLabel: 'Log activity',
    onSubmit: async (v) => {
      await api('POST', '/api/v1/crm/activities', { ...v, lead_id: lead.id });
      f.controls.subject.value = '';
      load();
    },
  });
  load();
  return h('div', { class: 'card' }, h('h2', null, 'Activities'), box, f.el);
}

async function detailScreen(ctx) {
  let lead;
  try {
    lead = await api('GET', `/api/v1/crm/leads/${encodeURIComponent(ctx.params.id)}`);
  } catch (e) {
    return h('section', null, pageHead('Lead'), errorState(e));
  }
  const reload = () => ctx.navigate(`/leads/${lead.id}`, { replace: true });
  const status = h('select', { id: 'lead-status' }, h('option', { value: lead.status }, `${lead.status} (current)`), (lead.next_statuses || []).map((s) => h('option', { value: s }, s)));
  const change = h('form', { class: 'row', onsubmit: async (e) => {
    e.preventDefault();
    if (status.value === lead.status) return;
    try {
      await api('PATCH', `/api/v1/crm/leads/${lead.id}`, { status: status.value });
      toast(`Status: ${status.value}`, 'success');
      reload();
    } catch (err) {
      toast(err.message, 'error');
    }
  } }, h('label', { for: 'lead-status' }, 'Status'), status, h('button', { type: 'submit', disabled: !(lead.next_statuses || []).length }, 'Change status'));
  const convert = lead.status === 'qualified'
    ? h('button', { type: 'button', class: 'primary', onclick: async () => {
      try {
        const r = await api('POST', `/api/v1/crm/leads/${lead.id}/convert`, {});
        toast(`Converted: deal ${r.deal ? r.deal.name : ''}`, 'success');
        reload();
      } catch (err) {
        toast(err.message, 'error');
      }
    } }, 'Convert to contact and deal')
    : null;
  const props = [
    ['E-mail', lead.email], ['Phone', lead.phone], ['Company', lead.company], ['Website', lead.website],
    ['Company size', lead.company_size], ['Budget', lead.budget], ['Services', (lead.services || []).join(', ')],
    ['Source', lead.source], ['Created', fmtTime(lead.created_at)], ['Message', lead.message],
  ];
  return h(
    'section',
    null,
    pageHead(lead.name, h('a', { href: '/portal/leads' }, 'All leads')),
    h('p', null, badge(lead.status), lead.converted_deal_id ? h('span', null, ' — converted; see the ', h('a', { href: '/portal/pipeline' }, 'pipeline')) : null),
    h('div', { class: 'grid' }, breakdown(lead), h('div', { class: 'card' }, h('h2', null, 'Details'), h('dl', { class: 'props' }, props.map(([k, v]) => [h('dt', null, k), h('dd', null, v === null || v === undefined || v === '' ? '—' : String(v))])))),
    h('div', { class: 'card' }, h('h2', null, 'Status'), change, convert),
    activities(lead),
  );
}

export const leadsList = { render: listScreen };
export default { render: detailScreen };

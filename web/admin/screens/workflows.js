// workflows.js — the workflows monitor: a tenant's runs (workflows belong to
// a tenant: the platform admin picks one, sent as X-Tenant-ID), filtered by
// status and workflow, newest first; a run's steps with their attempt
// history; cancel, signal (a waiting step's signal with an optional JSON
// payload) and "run again" (a new run of the same workflow with the same
// input — the API has no retry in place of a failed run). A run that is
// still moving is polled every 2 s while it is shown. Loaded when first
// opened.

import { api, qs } from '../../shared/api.js';
import { badge, confirmAction, dataTable, dialog, errorState, fmtTime, h, loading, mount, nextId, pageHead, toast } from '../../shared/ui.js';

const STATUSES = ['queued', 'running', 'waiting', 'completed', 'failed', 'canceled'];
const TERMINAL = new Set(['completed', 'failed', 'canceled']);
const RUN_BADGE = { completed: 'active', failed: 'dead', canceled: 'disabled', waiting: 'degraded', running: 'healthy', queued: 'replay' };

function runBadge(status) {
  const b = badge(RUN_BADGE[status] || status);
  b.textContent = status;
  return b;
}

export default {
  async render(ctx) {
    let tenants = [];
    try {
      tenants = (await api('GET', '/api/v1/auth/tenants?limit=200')).items;
    } catch (e) {
      return h('section', null, pageHead('Workflows'), errorState(e));
    }
    const f = { tenant: ctx.query.get('tenant') || tenants[0]?.id || '', status: '', name: '' };
    const hdr = () => ({ headers: { 'X-Tenant-ID': f.tenant } });
    const call = (method, path, body) => api(method, path, body, hdr());
    let timer = null;
    ctx.onLeave(() => clearTimeout(timer));

    async function openRun(id) {
      const box = h('div', null, loading());
      const dlg = dialog('Run', box);
      let stop = false;
      dlg.el.addEventListener('close', () => (stop = true));
      async function draw() {
        let run;
        try {
          run = await call('GET', `/api/v1/workflows/runs/${id}`);
        } catch (e) {
          mount(box, errorState(e));
          return;
        }
        const waiting = run.steps.filter((s) => s.status === 'waiting' && s.signal);
        const actions = [];
        if (!TERMINAL.has(run.status))
          actions.push(h('button', { type: 'button', class: 'danger', onclick: async () => {
            if (!(await confirmAction('Cancel run', `Cancel this ${run.workflow} run? Steps not yet run will not run.`, 'Cancel run'))) return;
            try {
              await call('POST', `/api/v1/workflows/runs/${id}/cancel`, {});
              toast('Run canceled', 'success');
              table.reload({ quiet: true });
              draw();
            } catch (e) {
              toast(e.message, 'error');
            }
          } }, 'Cancel run'));
        if (TERMINAL.has(run.status))
          actions.push(h('button', { type: 'button', onclick: async () => {
            try {
              const r = await call('POST', `/api/v1/workflows/${encodeURIComponent(run.workflow)}/runs`, { input: run.input || {} });
              toast(`Started run ${r.id}`, 'success');
              table.reload({ quiet: true });
              dlg.close();
            } catch (e) {
              toast(e.message, 'error');
            }
          } }, 'Run again'));
        for (const s of waiting) {
          const pid = nextId('payload');
          const payload = h('textarea', { id: pid, rows: 2 }, '{}');
          actions.push(h('form', { class: 'signal', onsubmit: async (ev) => {
            ev.preventDefault();
            let p;
            try {
              p = JSON.parse(payload.value || '{}');
            } catch {
              toast('The payload must be JSON (an object)', 'error');
              return;
            }
            try {
              await call('POST', `/api/v1/workflows/runs/${id}/signals/${encodeURIComponent(s.signal)}`, { payload: p });
              toast(`Signal ${s.signal} sent`, 'success');
              draw();
            } catch (e) {
              toast(e.message, 'error');
            }
          } }, h('label', { for: pid }, `Payload for "${s.signal}" (JSON)`), payload, h('button', { type: 'submit' }, `Send ${s.signal}`)));
        }
        mount(
          box,
          h('dl', { class: 'props' },
            h('dt', null, 'Workflow'), h('dd', null, run.workflow),
            h('dt', null, 'Status'), h('dd', null, runBadge(run.status)),
            h('dt', null, 'Created'), h('dd', null, fmtTime(run.created_at)),
            h('dt', null, 'Duration'), h('dd', null, run.duration_ms !== undefined ? `${run.duration_ms} ms` : '—'),
            run.error ? [h('dt', null, 'Error'), h('dd', null, run.error)] : null),
          h('table', null, h('caption', null, 'Steps and attempts'),
            h('thead', null, h('tr', null, ['Step', 'Status', 'Attempts', 'History'].map((t) => h('th', { scope: 'col' }, t)))),
            h('tbody', null, run.steps.map((s) => h('tr', null,
              h('th', { scope: 'row' }, `${s.index + 1}. ${s.name}`, s.kind === 'signal' ? h('span', { class: 'muted' }, ` (waits for ${s.signal})`) : null),
              h('td', null, runBadge(s.status), s.error ? h('div', { class: 'muted small-text' }, s.error) : null),
              h('td', null, `${s.attempts} / ${s.max_attempts}`),
              h('td', null, s.history.length ? h('ol', null, s.history.map((a) => h('li', null, `${a.status}${a.duration_ms !== undefined ? ` in ${a.duration_ms} ms` : ''}${a.error ? ` — ${a.error}` : ''}`))) : '—'))))),
          h('div', { class: 'row' }, actions),
          h('div', { class: 'form-actions' }, h('button', { type: 'button', onclick: () => dlg.close() }, 'Close')),
        );
        if (!TERMINAL.has(run.status) && !stop) setTimeout(() => stop || draw(), 2000);
      }
      draw();
    }

    const table = dataTable({
      caption: 'Runs, newest first',
      rowLabel: (r) => r.id,
      emptyTitle: 'No runs.',
      emptyHint: 'Runs appear here when a workflow is started (by the API, a schedule or an event).',
      columns: [
        { key: 'created_at', label: 'Created', sortable: true, render: (r) => fmtTime(r.created_at) },
        { key: 'workflow', label: 'Workflow', sortable: true },
        { key: 'status', label: 'Status', sortable: true, render: (r) => runBadge(r.status) },
        { key: 'duration_ms', label: 'Duration', sortable: true, render: (r) => (r.duration_ms !== undefined ? `${r.duration_ms} ms` : '—') },
        { key: 'error', label: 'Error', render: (r) => r.error || '—' },
        { key: 'actions', label: 'Actions', render: (r) => h('button', { type: 'button', class: 'small', 'aria-label': `Open ${r.workflow} run ${r.id}`, onclick: () => openRun(r.id) }, 'Open') },
      ],
      load: ({ cursor }) => (f.tenant ? call('GET', `/api/v1/workflows/runs${qs({ status: f.status, name: f.name, limit: 50, cursor })}`) : Promise.resolve({ items: [] })),
    });
    // runs still moving: refresh the list quietly
    const poll = () => {
      timer = setTimeout(async () => {
        await table.reload({ quiet: true });
        poll();
      }, 5000);
    };
    poll();

    const control = (label, el) => {
      const id = nextId('wf');
      el.id = id;
      return h('div', { class: 'inline-field' }, h('label', { for: id }, label), el);
    };
    const tenantSel = h('select', { onchange: (e) => ((f.tenant = e.target.value), table.reload()) }, tenants.map((t) => h('option', { value: t.id, selected: t.id === f.tenant }, `${t.name} (${t.slug})`)));
    const statusSel = h('select', { onchange: (e) => ((f.status = e.target.value), table.reload()) }, h('option', { value: '' }, 'any'), STATUSES.map((s) => h('option', { value: s }, s)));
    const nameSel = h('select', { onchange: (e) => ((f.name = e.target.value), table.reload()) }, h('option', { value: '' }, 'any'));
    call('GET', '/api/v1/workflows/definitions').then((r) => nameSel.append(...r.items.map((d) => h('option', { value: d.name }, d.name)))).catch(() => {});
    return h('section', null, pageHead('Workflows'), h('div', { class: 'toolbar' }, control('Tenant', tenantSel), control('Status', statusSel), control('Workflow', nameSel)), table.el);
  },
};

// services.js — the gateway's service registry with live health: status
// from /health, breaker state, response times and request counts from
// /api/brain/services, polled every POLL_MS; a breaker change is announced.
// Register, disable/enable (PUT with the service's whole configuration,
// since PUT replaces it) and remove HTTP upstreams.

import { api } from '../../shared/api.js';
import { badge, confirmAction, dataTable, dialog, form, h, pageHead, toast } from '../../shared/ui.js';

const POLL_MS = 2000;

const CONFIG_KEYS = ['target', 'enabled', 'connect_timeout_ms', 'response_timeout_ms', 'rate_limit_per_min', 'health_path'];

function configOf(s) {
  const c = {};
  for (const k of CONFIG_KEYS) c[k] = s[k];
  c.breaker_failures = s.breaker.failures;
  c.breaker_cooldown_ms = s.breaker.cooldown_ms;
  return c;
}

const ms = (v) => (typeof v === 'number' ? `${v.toFixed(v < 10 ? 1 : 0)} ms` : '—');

export default {
  id: 'services',
  path: '/services',
  title: 'Services',
  nav: 'Platform',
  roles: ['super_admin'],
  render(ctx) {
    const last = new Map(); // name -> breaker state, to announce changes
    const load = async () => {
      const [reg, health] = await Promise.all([api('GET', '/api/brain/services'), fetch('/health', { cache: 'no-store' }).then((r) => r.json())]);
      for (const s of reg.items) {
        s.health = (health.services || {})[s.name] || {};
        const prev = last.get(s.name);
        if (prev && prev !== s.breaker.state) toast(`${s.name}: breaker ${s.breaker.state.replace('_', '-')}`, s.breaker.state === 'closed' ? 'success' : 'error');
        last.set(s.name, s.breaker.state);
      }
      return { items: reg.items };
    };
    const update = async (s, patch, done) => {
      try {
        await api('PUT', `/api/brain/services/${encodeURIComponent(s.name)}`, { ...configOf(s), ...patch });
        toast(done, 'success');
        table.reload({ quiet: true });
      } catch (e) {
        toast(e.message, 'error');
      }
    };
    const table = dataTable({
      caption: 'Service registry',
      rowLabel: (s) => s.name,
      pageSize: 50,
      columns: [
        { key: 'name', label: 'Service', sortable: true, render: (s) => h('span', null, s.name) },
        { key: 'kind', label: 'Kind', sortable: true },
        { key: 'target', label: 'Target', render: (s) => h('code', null, s.target) },
        { key: 'status', label: 'Health', sortable: true, value: (s) => s.health.status, render: (s) => h('span', { 'data-health': s.name }, badge(s.health.status || 'unknown')) },
        { key: 'breaker', label: 'Breaker', sortable: true, value: (s) => s.breaker.state, render: (s) => h('span', { 'data-breaker': s.name }, badge(s.breaker.state)) },
        { key: 'avg', label: 'Avg response', sortable: true, value: (s) => s.stats.avg_ms, render: (s) => ms(s.stats.requests ? s.stats.avg_ms : undefined) },
        {
          key: 'check', label: 'Last check', value: (s) => s.health.last_check?.response_ms,
          render: (s) => {
            const c = s.health.last_check;
            return c ? `${c.ok ? 'ok' : 'failed'} · ${c.status || 'no answer'} · ${ms(c.response_ms)}` : '—';
          },
        },
        { key: 'requests', label: 'Requests', sortable: true, value: (s) => s.stats.requests, render: (s) => String(s.stats.requests) },
        { key: 'errors', label: '5xx', sortable: true, value: (s) => s.stats.server_errors, render: (s) => String(s.stats.server_errors) },
        {
          key: 'actions', label: 'Actions',
          render: (s) =>
            h(
              'div',
              { class: 'row' },
              h('button', {
                type: 'button', class: 'small', 'aria-label': `${s.enabled ? 'Disable' : 'Enable'} ${s.name}`,
                onclick: () => update(s, { enabled: !s.enabled }, `${s.name} ${s.enabled ? 'disabled' : 'enabled'}`),
              }, s.enabled ? 'Disable' : 'Enable'),
              s.kind === 'http'
                ? h('button', {
                    type: 'button', class: 'small danger', 'aria-label': `Remove ${s.name}`,
                    onclick: async () => {
                      if (!(await confirmAction(`Remove ${s.name}`, 'Requests to it will answer 404.', 'Remove'))) return;
                      try {
                        await api('DELETE', `/api/brain/services/${encodeURIComponent(s.name)}`);
                        toast(`${s.name} removed`, 'success');
                        table.reload({ quiet: true });
                      } catch (e) {
                        toast(e.message, 'error');
                      }
                    },
                  }, 'Remove')
                : null,
            ),
        },
      ],
      load,
      emptyTitle: 'No services registered.',
    });
    const timer = setInterval(() => document.visibilityState === 'visible' && table.reload({ quiet: true }), POLL_MS);
    ctx.onLeave(() => clearInterval(timer));

    const register = () => {
      const d = dialog(
        'Register a service',
        form({
          fields: [
            { name: 'name', label: 'Name', required: true, hint: 'a-z, 0-9 and dashes; served at /api/brain/<name>/…' },
            { name: 'target', label: 'Target', required: true, hint: 'http://host:port/base or builtin:<context>', placeholder: 'http://127.0.0.1:9000' },
            { name: 'health_path', label: 'Health path', hint: 'Checked periodically, e.g. /health', placeholder: '/health' },
            { name: 'breaker_failures', label: 'Breaker: failures before it opens', type: 'number', min: 1, max: 1000 },
            { name: 'breaker_cooldown_ms', label: 'Breaker: cool-down (ms)', type: 'number', min: 100 },
            { name: 'response_timeout_ms', label: 'Response timeout (ms)', type: 'number', min: 1 },
            { name: 'rate_limit_per_min', label: 'Rate limit per minute and tenant', type: 'number', min: 1 },
          ],
          submitLabel: 'Register',
          onCancel: () => d.close(),
          onSubmit: async (v) => {
            const s = await api('POST', '/api/brain/services', v);
            d.close();
            toast(`${s.name} registered`, 'success');
            table.reload({ quiet: true });
          },
        }).el,
      );
    };
    return h(
      'section',
      null,
      pageHead('Services', h('button', { type: 'button', class: 'primary', onclick: register }, 'Register service')),
      h('p', { class: 'muted' }, `Live: refreshed every ${POLL_MS / 1000} s. Health comes from the breaker: open = down, half-open = degraded.`),
      table.el,
    );
  },
};

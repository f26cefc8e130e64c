// overview.js — the platform at a glance, every number from a live API:
// /health (database, services), /api/brain/metrics (gateway traffic,
// breaker activations), tenants and dead letters.

import { api } from '../../shared/api.js';
import { badge, h, pageHead } from '../../shared/ui.js';

function kpi(label, value, href) {
  const v = h('div', { class: 'value' }, value);
  return {
    el: h('div', { class: 'card kpi' }, v, h('div', { class: 'label' }, href ? h('a', { href }, label) : label)),
    set: (x) => v.replaceChildren(x),
  };
}

export default {
  id: 'overview',
  path: '/',
  title: 'Overview',
  nav: '',
  roles: ['super_admin'],
  render() {
    const k = {
      health: kpi('Platform health', '…'),
      tenants: kpi('Tenants', '…', '/admin/tenants'),
      services: kpi('Services healthy', '…', '/admin/services'),
      requests: kpi('Gateway requests', '…'),
      breakers: kpi('Breaker activations', '…', '/admin/services'),
      dead: kpi('Dead letters', '…', '/admin/events/dead-letters'),
    };
    const fail = (x) => () => x.set('—');
    fetch('/health', { cache: 'no-store' })
      .then((r) => r.json())
      .then((j) => {
        k.health.set(badge(j.status));
        const all = Object.values(j.services || {});
        k.services.set(`${all.filter((s) => s.status === 'healthy').length} / ${all.length}`);
      })
      .catch(fail(k.health));
    api('GET', '/api/v1/auth/tenants?limit=200')
      .then((r) => k.tenants.set(r.next_cursor ? '200+' : String(r.items.length)))
      .catch(fail(k.tenants));
    api('GET', '/api/brain/metrics')
      .then((m) => {
        k.requests.set(String(m.total_requests));
        k.breakers.set(String(m.breaker_activations));
      })
      .catch(fail(k.requests));
    api('GET', '/api/v1/events/dead-letters?status=dead&limit=200')
      .then((r) => k.dead.set(r.items.length >= 200 ? '200+' : String(r.items.length)))
      .catch(fail(k.dead));
    return h('section', null, pageHead('Platform overview'), h('div', { class: 'grid' }, Object.values(k).map((x) => x.el)));
  },
};

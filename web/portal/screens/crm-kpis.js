// crm-kpis.js — the dashboard's CRM part (imported by dashboard.js when the
// user's roles read leads): KPI cards and leads per day by source as an SVG
// chart drawn here. The CRM has no aggregate endpoint yet, so the numbers
// come from the last 30 days of leads (paged, at most MAX_LEADS) and
// GET /crm/pipeline; the cards say so.

import { api, qs } from '../../shared/api.js';
import { errorState, h, loading, mount } from '../../shared/ui.js';
import { money } from './pipeline.js';

const BG = { background: true }; // the dashboard's own loads: never redirect
const DAY = 86400000;
const DAYS = 14;
const MAX_LEADS = 2000;
const COLORS = ['#2457c5', '#1d6f42', '#8a5300', '#b3261e', '#6b3fa0', '#00777a', '#4f5b70', '#a3366f'];
const SVG = 'http://www.w3.org/2000/svg';

function s(tag, attrs, ...kids) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const k of kids) el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return el;
}

async function recentLeads(since) {
  const out = [];
  let cursor = null;
  for (;;) {
    const r = await api('GET', `/api/v1/crm/leads${qs({ sort: 'created', order: 'desc', limit: 200, cursor })}`, undefined, BG);
    for (const l of r.items) {
      if (Date.parse(l.created_at) < since) return out;
      out.push(l);
    }
    cursor = r.next_cursor;
    if (!cursor || out.length >= MAX_LEADS) return out;
  }
}

function dayKey(t) {
  const d = new Date(t);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** chart: stacked bars of leads per day (the last DAYS days) by source. */
export function leadsChart(leads, now = Date.now()) {
  const days = [];
  for (let i = DAYS - 1; i >= 0; i--) days.push(dayKey(now - i * DAY));
  const sources = [...new Set(leads.map((l) => l.source || 'unknown'))].sort();
  const counts = new Map(days.map((d) => [d, new Map()]));
  for (const l of leads) {
    const m = counts.get(dayKey(Date.parse(l.created_at)));
    if (m) m.set(l.source || 'unknown', (m.get(l.source || 'unknown') || 0) + 1);
  }
  const max = Math.max(1, ...days.map((d) => [...counts.get(d).values()].reduce((a, b) => a + b, 0)));
  const W = 640, H = 220, L = 32, B = 28, T = 10;
  const bw = (W - L - 10) / DAYS;
  const y = (v) => H - B - (v / max) * (H - B - T);
  const total = leads.length;
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': 'chart-title chart-desc' },
    s('title', { id: 'chart-title' }, 'Leads per day by source'),
    s('desc', { id: 'chart-desc' }, `${total} leads over the last ${DAYS} days, stacked by source: ${sources.join(', ') || 'none'}.`));
  for (const v of [0, Math.ceil(max / 2), max]) {
    svg.append(s('line', { x1: L, x2: W - 5, y1: y(v), y2: y(v), stroke: 'currentColor', 'stroke-opacity': 0.2 }));
    svg.append(s('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end', 'font-size': 11, fill: 'currentColor' }, v));
  }
  days.forEach((d, i) => {
    let acc = 0;
    const x = L + i * bw + 2;
    sources.forEach((src, j) => {
      const n = counts.get(d).get(src) || 0;
      if (!n) return;
      const rect = s('rect', { x, width: bw - 4, y: y(acc + n), height: y(acc) - y(acc + n), fill: COLORS[j % COLORS.length], 'data-source': src, 'data-day': d });
      rect.append(s('title', null, `${d}: ${n} from ${src}`));
      svg.append(rect);
      acc += n;
    });
    if (i % 2 === 0) svg.append(s('text', { x: x + (bw - 4) / 2, y: H - 10, 'text-anchor': 'middle', 'font-size': 10, fill: 'currentColor' }, d.slice(5)));
  });
  const legend = h('ul', { class: 'legend' }, sources.map((src, j) => h('li', null, svgSwatch(COLORS[j % COLORS.length]), src)));
  return h('figure', { class: 'chart' }, svg, legend);
}

function svgSwatch(color) {
  return s('svg', { width: 12, height: 12, 'aria-hidden': 'true', class: 'swatch' }, s('rect', { width: 12, height: 12, rx: 2, fill: color }));
}

function kpi(label, value, hint, key) {
  return h('div', { class: 'card kpi', 'data-kpi': key }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value), hint ? h('div', { class: 'muted small-text' }, hint) : null);
}

export function crmSection() {
  const box = h('div', { class: 'crm-kpis' }, loading('Loading the CRM numbers…'));
  async function load() {
    const now = Date.now();
    try {
      const [leads, pipe] = await Promise.all([recentLeads(now - 30 * DAY), api('GET', '/api/v1/crm/pipeline', undefined, BG)]);
      const week = leads.filter((l) => Date.parse(l.created_at) >= now - 7 * DAY);
      const converted = leads.filter((l) => l.status === 'converted').length;
      const open = {};
      for (const st of pipe.stages.filter((x) => x.kind === 'open'))
        for (const [cur, v] of Object.entries(st.value_minor || {})) open[cur] = (open[cur] || 0) + v;
      const high = week.filter((l) => l.priority === 'high');
      const openDeals = pipe.stages.filter((x) => x.kind === 'open').reduce((a, x) => a + x.count, 0);
      mount(
        box,
        h('div', { class: 'grid' },
          kpi('New leads this week', String(week.length), 'created in the last 7 days', 'new-leads'),
          kpi('Pipeline value', money(open), `open stages · ${openDeals} deal${openDeals === 1 ? '' : 's'}`, 'pipeline'),
          kpi('Conversion rate', leads.length ? `${Math.round((converted / leads.length) * 100)}%` : '—', `converted of ${leads.length} leads of the last 30 days`, 'conversion'),
          kpi('High-value leads', String(high.length), 'high priority, this week', 'high-value'),
        ),
        h('div', { class: 'card' }, h('h2', null, 'Leads per day by source'), leadsChart(leads.filter((l) => Date.parse(l.created_at) >= now - DAYS * DAY), now)),
      );
    } catch (e) {
      if (e.status === 403) mount(box);
      else mount(box, errorState(e, load));
    }
  }
  load();
  return box;
}

// notify.js — the header's notifications bell: the unread count, the list
// (newest first, mark one / all read) and live arrivals.
//
// Live: GET /api/v1/notifications/stream (Server-Sent Events) read with
// fetch() and a bearer token, not EventSource. EventSource cannot send an
// Authorization header, so it would need the token in the URL (it lands in
// server and proxy logs, the history and Referer headers) or a second
// short-lived "stream token" kind that identity would have to mint, scope
// and revoke. fetch() keeps the one credential we have in a header, goes
// through the same refresh-on-401 as every call, and we do what
// EventSource would: parse the stream, remember the last event id and
// reconnect with Last-Event-ID (backing off on 503 — the server bounds open
// streams — and on errors). The list stays the source of truth: it is
// re-read on every (re)connect, and events are deduped by id.

import { api, refresh, session } from './api.js';
import { fmtTime, h, nextId, toast } from './ui.js';

const SVG = 'http://www.w3.org/2000/svg';
function bellIcon() {
  const svg = document.createElementNS(SVG, 'svg');
  for (const [k, v] of Object.entries({ viewBox: '0 0 24 24', width: 16, height: 16, 'aria-hidden': 'true', fill: 'none', stroke: 'currentColor', 'stroke-width': 2 })) svg.setAttribute(k, String(v));
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', 'M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9M10.3 21a1.94 1.94 0 0 0 3.4 0');
  svg.append(path);
  return svg;
}

export function notificationsBell(base) {
  const id = nextId('notif');
  const state = { items: [], unread: 0, last: 0, open: false, stop: false, ctrl: null };
  const count = h('span', { class: 'count', 'aria-hidden': 'true' });
  const btn = h('button', { type: 'button', class: 'small bell', 'aria-expanded': 'false', 'aria-controls': id }, bellIcon(), h('span', { class: 'hide-narrow', 'aria-hidden': 'true' }, ' Notifications'), count);
  const live = h('div', { class: 'visually-hidden', 'aria-live': 'polite' });
  const list = h('ul', { class: 'notif-list' });
  const panel = h(
    'div',
    { id, class: 'notif-panel', hidden: true, role: 'region', 'aria-label': 'Notifications' },
    h('div', { class: 'row' }, h('strong', null, 'Notifications'), h('button', { type: 'button', class: 'small', onclick: readAll }, 'Mark all read')),
    list,
  );
  const wrap = h('div', { class: 'menu notif' }, btn, panel, live);

  function label() {
    const n = state.unread;
    btn.setAttribute('aria-label', `Notifications, ${n} unread`);
    count.textContent = n ? String(n) : '';
    count.hidden = !n;
  }

  function item(n) {
    const link = n.data && n.data.lead_id ? h('a', { href: `${base}/leads/${n.data.lead_id}` }, n.title) : h('span', null, n.title);
    return h(
      'li',
      { class: n.read ? 'read' : 'unread', 'data-id': n.id },
      h('div', null, link, n.read ? null : h('span', { class: 'badge warn' }, 'new')),
      n.body ? h('div', { class: 'muted small-text' }, n.body) : null,
      h('div', { class: 'row' }, h('time', { class: 'muted', datetime: n.created_at }, fmtTime(n.created_at)), n.read ? null : h('button', { type: 'button', class: 'small', onclick: () => markRead(n) }, 'Mark read')),
    );
  }

  function render() {
    list.replaceChildren(...(state.items.length ? state.items.map(item) : [h('li', { class: 'muted' }, 'No notifications yet.')]));
    label();
  }

  async function load() {
    const r = await api('GET', '/api/v1/notifications?limit=20', undefined, { background: true });
    state.items = r.items;
    state.unread = r.unread;
    for (const n of r.items) state.last = Math.max(state.last, n.seq);
    render();
  }

  async function markRead(n) {
    try {
      await api('POST', `/api/v1/notifications/${n.id}/read`);
      n.read = true;
      state.unread = Math.max(0, state.unread - 1);
      render();
    } catch (e) {
      toast(e.message, 'error');
    }
  }

  async function readAll() {
    try {
      await api('POST', '/api/v1/notifications/read-all');
      for (const n of state.items) n.read = true;
      state.unread = 0;
      render();
    } catch (e) {
      toast(e.message, 'error');
    }
  }

  function arrived(n) {
    if (state.items.some((x) => x.id === n.id)) return;
    state.items.unshift(n);
    state.items.length = Math.min(state.items.length, 50);
    state.unread = typeof n.unread === 'number' ? n.unread : state.unread + 1;
    render();
    live.textContent = `New notification: ${n.title}`;
    toast(n.title, 'info', 8000);
  }

  // one SSE connection; resolves when it ends. Throws {status} on refusal.
  async function connect() {
    let s = session();
    if (!s) throw Object.assign(new Error('signed out'), { status: 401 });
    state.ctrl = new AbortController();
    const headers = { Accept: 'text/event-stream', Authorization: `Bearer ${s.access_token}` };
    // always: with 0 (an empty list) a row created since the list was read still arrives
    headers['Last-Event-ID'] = String(state.last);
    let res = await fetch('/api/v1/notifications/stream', { headers, signal: state.ctrl.signal, cache: 'no-store', credentials: 'omit' });
    if (res.status === 401) {
      s = await refresh(s.access_token); // rotates once, shared with api()
      headers.Authorization = `Bearer ${s.access_token}`;
      res = await fetch('/api/v1/notifications/stream', { headers, signal: state.ctrl.signal, cache: 'no-store', credentials: 'omit' });
    }
    if (!res.ok || !res.body) throw Object.assign(new Error(`stream ${res.status}`), { status: res.status, retryAfter: Number(res.headers.get('Retry-After')) || 0 });
    wrap.dataset.live = 'on';
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const ev = { data: '' };
        for (const line of block.split('\n')) {
          const m = /^(id|event|data): ?(.*)$/.exec(line);
          if (m) ev[m[1]] = m[1] === 'data' ? ev.data + m[2] : m[2];
        }
        if (ev.id) state.last = Math.max(state.last, Number(ev.id) || 0);
        if (ev.event === 'notification') {
          try {
            arrived(JSON.parse(ev.data));
          } catch {
            // a malformed event is skipped; the list is re-read on reconnect
          }
        }
      }
    }
  }

  async function follow() {
    let wait = 1000;
    while (!state.stop) {
      try {
        await load();
        wrap.dataset.live = 'connecting';
        await connect();
        wait = 1000; // a clean end (time limit, restart): reconnect soon
      } catch (e) {
        if (state.stop || e.name === 'AbortError') return;
        if (e.status === 401 || e.status === 403) {
          wrap.dataset.live = 'off';
          return;
        }
        wait = Math.min(60000, Math.max(wait * 2, (e.retryAfter || 0) * 1000));
      }
      wrap.dataset.live = 'off';
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  const setOpen = (open) => {
    panel.hidden = !open;
    btn.setAttribute('aria-expanded', String(open));
  };
  btn.addEventListener('click', () => setOpen(panel.hidden));
  wrap.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && !panel.hidden) {
      setOpen(false);
      btn.focus();
    }
  });
  document.addEventListener('click', (ev) => {
    if (!wrap.contains(ev.target)) setOpen(false);
  });
  window.addEventListener('pagehide', () => {
    state.stop = true;
    state.ctrl?.abort();
  });
  label();
  follow();
  return wrap;
}

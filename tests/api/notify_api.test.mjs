// notify_api.test.mjs — the notifications routes (/api/v1/notifications)
// black-box: permissions by role, validation of the query, 404 for a
// notification that is not the caller's, and an empty list for a tenant
// with none; the live stream (/stream, Server-Sent Events): a high-value
// lead from a contact-form submission arrives on an open stream, streams
// resume after Last-Event-ID / ?after, their number is bounded (503), and
// they end at shutdown. The list's content is checked in
// contact_flow.test.mjs.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { after, before, test } from 'node:test';

import { highValueLead, hostReq, siteWithContactForm, uniq } from './cms_helpers.mjs';

import { assertError, show } from './lib/expect.mjs';
import { superAdminToken, tenantToken } from './lib/jwt.mjs';
import { isPostgres, request, startServer, testDb } from './lib/server.mjs';

let srv;
before(async () => {
  srv = await startServer({ env: { BIZOSAAS_NOTIFY_SSE_MAX: 16 } });
});
after(async () => {
  if (srv) assert.equal(await srv.stop(), 0, `exit code; stderr:\n${srv.stderr().join('\n')}`);
});

const T = crypto.randomUUID();

test('a manager of a tenant without notifications gets an empty list', async () => {
  const res = await request(srv, 'GET', '/api/v1/notifications', { token: tenantToken(T, ['manager']) });
  assert.equal(res.status, 200, show(res));
  assert.deepEqual(res.json, { items: [], unread: 0, next_cursor: null });
});

test('a client-role user has no notifications permission (403)', async () => {
  const res = await request(srv, 'GET', '/api/v1/notifications', { token: tenantToken(T, ['client']) });
  assertError(res, 403, 'forbidden');
});

test('no token is 401', async () => {
  const res = await request(srv, 'GET', '/api/v1/notifications');
  assertError(res, 401, 'unauthorized');
});

test('bad query parameters are 422 naming the parameter', async () => {
  const token = tenantToken(T, ['tenant_admin']);
  for (const q of ['limit=0', 'limit=abc', 'cursor=-1', 'unread=maybe']) {
    const res = await request(srv, 'GET', `/api/v1/notifications?${q}`, { token });
    assertError(res, 422, 'validation_failed');
    assert.match(res.json.error.message, new RegExp(q.split('=')[0]));
  }
});

test("marking a notification that is not the caller's is 404; read-all marks nothing", async () => {
  const token = tenantToken(T, ['manager']);
  const res = await request(srv, 'POST', `/api/v1/notifications/${crypto.randomUUID()}/read`, { token });
  assertError(res, 404, 'not_found');
  const all = await request(srv, 'POST', '/api/v1/notifications/read-all', { token });
  assert.equal(all.status, 200, show(all));
  assert.deepEqual(all.json, { marked: 0 });
});

test('super_admin without a tenant sees an empty list', async () => {
  const res = await request(srv, 'GET', '/api/v1/notifications', { token: superAdminToken() });
  assert.equal(res.status, 200, show(res));
  assert.deepEqual(res.json.items, []);
});

// --- the live stream ---

const siteWithForm = () => siteWithContactForm(srv);

async function submitHigh(site, name) {
  const r = await hostReq(srv, 'POST', '/api/brain/contact/submit', { host: site.host, body: highValueLead(`${uniq()}@example.com`, name) });
  assert.equal(r.status, 201, show(r));
  assert.equal(r.json.priority, 'high');
  return r.json;
}

async function eventually(fn) {
  for (;;) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** open: an SSE request → {ready (resolves with the status and headers),
 * events (parsed so far), next(pred) (the next event matching), body(),
 * ended (resolves at the end), close()}. */
function open(server, path, token, headers = {}) {
  const s = { events: [], text: '', waiters: [] };
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  s.ended = new Promise((resolveEnd) => {
    s.ready = new Promise((resolve, reject) => {
      s.req = http.request({ host: '127.0.0.1', port: server.port, path, headers: h }, (res) => {
        res.setEncoding('utf8');
        let pending = '';
        res.on('data', (d) => {
          s.text += d;
          pending += d;
          let i;
          while ((i = pending.indexOf('\n\n')) >= 0) {
            const block = pending.slice(0, i);
            pending = pending.slice(i + 2);
            const ev = {};
            for (const line of block.split('\n')) {
              const m = /^(id|event|data): (.*)$/.exec(line);
              if (m) ev[m[1]] = m[2];
            }
            if (ev.event) {
              ev.data = JSON.parse(ev.data);
              s.events.push(ev);
            }
          }
          s.waiters = s.waiters.filter((w) => !w());
          if (!s.started) {
            s.started = true;
            resolve({ status: res.statusCode, headers: res.headers, text: () => s.text });
          }
        });
        res.on('end', () => {
          if (!s.started) resolve({ status: res.statusCode, headers: res.headers, text: () => s.text });
          resolveEnd(s.text);
        });
        res.on('error', () => resolveEnd(s.text));
      });
      s.req.on('error', (e) => {
        reject(e);
        resolveEnd(s.text);
      });
      s.req.setTimeout(30000, () => s.req.destroy(new Error('SSE timeout')));
      s.req.end();
    });
  });
  // the next event matching pred; fails (rather than hangs) after 20 s
  s.next = (pred = () => true, from = 0) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching event; got:\n${s.text}`)), 20000);
      const check = () => {
        const e = s.events.slice(from).find(pred);
        if (e) {
          clearTimeout(timer);
          resolve(e);
        }
        return !!e;
      };
      if (!check()) s.waiters.push(check);
    });
  s.close = () => s.req.destroy();
  return s;
}

test('a high-value lead from the contact form arrives live on an open stream', async () => {
  const site = await siteWithForm();
  const st = open(srv, '/api/v1/notifications/stream', site.manager);
  const ready = await st.ready;
  assert.equal(ready.status, 200, ready.text());
  assert.equal(ready.headers['content-type'], 'text/event-stream');
  assert.match(ready.headers['cache-control'], /no-cache/);
  const lead = await submitHigh(site, 'Ada Live');
  const ev = await st.next((e) => e.event === 'notification');
  st.close();
  assert.equal(ev.data.kind, 'high_value_lead');
  assert.equal(ev.data.data.lead_id, lead.lead_id);
  assert.match(ev.data.title, /Ada Live/);
  assert.equal(ev.data.read, false);
  assert.equal(ev.data.unread, 1);
  assert.equal(ev.id, String(ev.data.seq));
  // the same row as the list shows
  const list = await request(srv, 'GET', '/api/v1/notifications', { token: site.manager });
  assert.equal(list.json.items[0].id, ev.data.id);
});

test('a stream resumes after Last-Event-ID or ?after and starts after the newest row without them', async () => {
  const site = await siteWithForm();
  await submitHigh(site, 'First Lead');
  await submitHigh(site, 'Second Lead');
  const [second, first] = await eventually(async () => {
    const list = await request(srv, 'GET', '/api/v1/notifications', { token: site.admin });
    return list.json.items.length === 2 ? list.json.items : null;
  });
  assert.ok(first.seq < second.seq);
  // ?after=0: both, oldest first
  const all = open(srv, '/api/v1/notifications/stream?after=0', site.admin);
  await all.next((e) => e.data.id === second.id);
  all.close();
  assert.deepEqual(all.events.map((e) => e.data.id), [first.id, second.id]);
  // Last-Event-ID (an EventSource reconnect) wins over ?after
  const resumed = open(srv, '/api/v1/notifications/stream?after=0', site.admin, { 'last-event-id': String(first.seq) });
  const ev = await resumed.next();
  resumed.close();
  assert.equal(ev.data.id, second.id);
  // neither: only rows newer than the newest at the start
  const fresh = open(srv, '/api/v1/notifications/stream', site.admin);
  assert.equal((await fresh.ready).status, 200);
  const third = await submitHigh(site, 'Third Lead');
  const ev3 = await fresh.next();
  fresh.close();
  assert.equal(ev3.data.data.lead_id, third.lead_id);
  assert.equal(fresh.events.length, 1);
});

test('another tenant\'s notifications never reach a stream', async () => {
  const mine = await siteWithForm();
  const other = await siteWithForm();
  const st = open(srv, '/api/v1/notifications/stream?after=0', mine.manager);
  assert.equal((await st.ready).status, 200);
  await submitHigh(other, 'Other Tenant');
  await submitHigh(mine, 'My Tenant');
  const ev = await st.next();
  st.close();
  assert.match(ev.data.title, /My Tenant/);
  assert.deepEqual(st.events.map((e) => e.data.title).filter((t) => /Other Tenant/.test(t)), []);
});

test('stream permissions and bad start points are refused before streaming', async () => {
  const T2 = crypto.randomUUID();
  const refuse = async (path, token, headers, status, code) => {
    const st = open(srv, path, token, headers);
    const r = await st.ready;
    await st.ended;
    assert.equal(r.status, status, r.text());
    assert.equal(JSON.parse(r.text()).error.code, code);
  };
  await refuse('/api/v1/notifications/stream', null, {}, 401, 'unauthorized');
  await refuse('/api/v1/notifications/stream', tenantToken(T2, ['client']), {}, 403, 'forbidden');
  await refuse('/api/v1/notifications/stream', superAdminToken(), {}, 422, 'validation_failed');
  await refuse('/api/v1/notifications/stream?after=-1', tenantToken(T2, ['manager']), {}, 422, 'validation_failed');
  await refuse('/api/v1/notifications/stream?after=x', tenantToken(T2, ['manager']), {}, 422, 'validation_failed');
  await refuse('/api/v1/notifications/stream', tenantToken(T2, ['manager']), { 'last-event-id': 'abc' }, 422, 'validation_failed');
});

test('the number of open streams is bounded (BIZOSAAS_NOTIFY_SSE_MAX): 503 with Retry-After beyond', async () => {
  const own = await startServer({ env: { BIZOSAAS_NOTIFY_SSE_MAX: 3 } });
  try {
    await bounded(own);
  } finally {
    assert.equal(await own.stop(), 0, own.stderr().join('\n'));
  }
});

async function bounded(srv) {
  const token = tenantToken(crypto.randomUUID(), ['manager']);
  const open3 = [0, 1, 2].map(() => open(srv, '/api/v1/notifications/stream', token));
  for (const st of open3) assert.equal((await st.ready).status, 200);
  const fourth = open(srv, '/api/v1/notifications/stream', token);
  const r = await fourth.ready;
  await fourth.ended;
  assert.equal(r.status, 503, r.text());
  assert.equal(r.headers['retry-after'], '5');
  // the API still answers while streams are open
  const list = await request(srv, 'GET', '/api/v1/notifications', { token });
  assert.equal(list.status, 200, show(list));
  open3[0].close();
  await open3[0].ended;
  // a closed stream's place is given back (after the server notices the close)
  for (;;) {
    const again = open(srv, '/api/v1/notifications/stream', token);
    const a = await again.ready;
    if (a.status === 200) {
      again.close();
      break;
    }
    await again.ended;
    await new Promise((res) => setTimeout(res, 100));
  }
  for (const st of open3) st.close();
}

test('an open stream ends at shutdown and the server exits cleanly', async () => {
  const own = await startServer();
  try {
    const token = tenantToken(crypto.randomUUID(), ['manager']);
    const st = open(own, '/api/v1/notifications/stream', token);
    assert.equal((await st.ready).status, 200);
    const code = own.stop();
    const text = await st.ended;
    assert.match(text, /: server shutting down; reconnect/);
    assert.equal(await code, 0);
  } finally {
    await own.stop().catch(() => {});
  }
});

test('PostgreSQL: a row that commits after a higher seq was streamed still arrives (late commit)', { skip: !isPostgres() && 'PostgreSQL only' }, async () => {
  const T3 = crypto.randomUUID();
  // as the app role, in the tenant's context (row-level security)
  const psql = (sql) =>
    execFileSync('psql', [testDb(), '-v', 'ON_ERROR_STOP=1', '-qtAc', `SET app.current_tenant_id = '${T3}'; ${sql}`], { encoding: 'utf8' }).trim().split('\n').pop();
  const insert = (seq, title) =>
    psql(`INSERT INTO notifications (tenant_id, id, ${seq ? 'seq, ' : ''}roles, kind, title) VALUES ('${T3}', '${crypto.randomUUID()}', ${seq ? `${seq}, ` : ''}4, 'test', '${title}') RETURNING seq`);
  // a writer takes its seq first and commits last: reserve the seq, insert with it later
  const early = Number(psql("SELECT nextval('notifications_seq_gen')"));
  const st = open(srv, '/api/v1/notifications/stream', tenantToken(T3, ['manager']));
  assert.equal((await st.ready).status, 200);
  const later = Number(insert(null, 'committed first'));
  assert.ok(later > early);
  await st.next((e) => e.data.title === 'committed first');
  insert(early, 'committed late');
  const ev = await st.next((e) => e.data.title === 'committed late');
  st.close();
  assert.equal(ev.id, String(early));
  assert.deepEqual(st.events.map((e) => e.data.title), ['committed first', 'committed late']);
});

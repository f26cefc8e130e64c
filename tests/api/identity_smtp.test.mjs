// identity_smtp.test.mjs — with BIZOSAAS_SMTP_URL set, queued mail is
// delivered over SMTP (to a fake SMTP server here) and the delivered token
// works; a build without SMTP support refuses to start instead of never
// delivering (then the delivery test is skipped).

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';

import { call, login, PASSWORD, uniq } from './identity_helpers.mjs';
import { startServer } from './lib/server.mjs';

/** fakeSmtp: a minimal SMTP server collecting {from, to, data}. */
function fakeSmtp() {
  const mails = [];
  const server = net.createServer((sock) => {
    let buf = '';
    let inData = false;
    let cur = { to: [] };
    sock.write('220 fake ESMTP\r\n');
    sock.on('data', (d) => {
      buf += d.toString('utf8');
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) return;
          cur.data = buf.slice(0, end);
          buf = buf.slice(end + 5);
          inData = false;
          mails.push(cur);
          cur = { to: [] };
          sock.write('250 queued\r\n');
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO' || verb === 'HELO') sock.write('250 fake\r\n');
        else if (verb === 'MAIL') {
          cur.from = line;
          sock.write('250 ok\r\n');
        } else if (verb === 'RCPT') {
          cur.to.push(line);
          sock.write('250 ok\r\n');
        } else if (verb === 'DATA') {
          inData = true;
          sock.write('354 go ahead\r\n');
        } else if (verb === 'QUIT') {
          sock.end('221 bye\r\n');
        } else sock.write('250 ok\r\n');
      }
    });
    sock.on('error', () => {});
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, mails, port: server.address().port })));
}

let smtp;
let srv;
let supported = true;
before(async () => {
  smtp = await fakeSmtp();
  try {
    srv = await startServer({ env: { BIZOSAAS_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, BIZOSAAS_MAIL_FROM: 'noreply@test.bizosaas' } });
  } catch (e) {
    if (!/no SMTP support/.test(String(e.message))) throw e;
    supported = false;
  }
});
after(async () => {
  await srv?.stop();
  smtp.server.close();
});

test('a sign-up verification mail is delivered over SMTP and its token works', async (t) => {
  if (!supported) return t.skip('this build has no SMTP support (libcurl)');
  const email = `smtp-${uniq()}@example.com`;
  const r = await call(srv, 'POST', '/register', { body: { email, password: PASSWORD } });
  assert.equal(r.status, 201, r.text);
  const deadline = Date.now() + 10000;
  let mail;
  while (!mail && Date.now() < deadline) {
    mail = smtp.mails.find((m) => m.to.some((x) => x.includes(email)));
    if (!mail) await new Promise((res) => setTimeout(res, 50));
  }
  assert.ok(mail, 'no mail arrived');
  assert.match(mail.from, /noreply@test\.bizosaas/);
  assert.match(mail.data, /^Subject: Confirm your e-mail address$/m);
  assert.match(mail.data, new RegExp(`^To: ${email}$`, 'm'));
  const token = /\b([0-9a-f]{64})\b/.exec(mail.data)[1];
  assert.equal((await call(srv, 'POST', '/verify-email', { body: { token } })).status, 200);
  assert.equal((await login(srv, email)).json.user.verified, true);
  // delivered once: the queue row is marked sent and not sent again
  await new Promise((res) => setTimeout(res, 1200));
  assert.equal(smtp.mails.filter((m) => m.to.some((x) => x.includes(email))).length, 1);
});

test('without SMTP support the server refuses BIZOSAAS_SMTP_URL', async (t) => {
  if (supported) return t.skip('this build has SMTP support');
  const s = await startServer({ env: { BIZOSAAS_SMTP_URL: 'smtp://127.0.0.1:1' }, waitReady: false });
  assert.equal((await s.exited).code, 1);
});

// login.js — the sign-in page: e-mail and password, a two-factor code when
// the account needs one, the lockout message with its wait, and where to go
// next (?next= when it is one of our portals, else the user's home portal).
// The same page handles the mailed tokens: #forgot (ask for a reset token),
// #reset (set a new password with it) and #invite (accept an invitation).

import { ApiError, login, session } from '../shared/api.js';
import { fmtWait, form, h, mount } from '../shared/ui.js';

const box = document.getElementById('login');

/** target: where to go after signing in; only paths of our portals. */
function target(user) {
  const next = new URLSearchParams(location.search).get('next') || '';
  if (/^\/(portal|admin)(\/[^\\]*)?$/.test(next) && !next.startsWith('//')) return next;
  return user && (user.roles || []).includes('super_admin') ? '/admin' : '/portal';
}

let needCode = false;
let lockTimer = null;

function render(prefill = {}) {
  const fields = [
    { name: 'email', label: 'E-mail', type: 'email', required: true, autocomplete: 'username', value: prefill.email },
    { name: 'password', label: 'Password', type: 'password', required: true, autocomplete: 'current-password' },
  ];
  if (needCode) {
    fields.push({
      name: 'totp_code', label: 'Two-factor code', required: true, autocomplete: 'one-time-code', inputmode: 'numeric',
      hint: 'The 6-digit code from your authenticator app, or a recovery code.',
    });
  }
  const f = form({
    fields,
    submitLabel: 'Sign in',
    labelledBy: 'login-title',
    onSubmit: async (v, { setError }) => {
      try {
        const s = await login(v.email, v.password, v.totp_code);
        location.assign(target(s.user));
      } catch (e) {
        if (e.status === 401 && /two-factor code is required/.test(e.message) && !needCode) {
          needCode = true;
          render({ email: v.email });
          const c = box.querySelector('input[name="totp_code"]');
          box.querySelector('input[name="password"]').value = v.password;
          c.focus();
          return;
        }
        if (e.status === 401 && /two-factor/.test(e.message)) return setError({ field: 'totp_code', message: e.message });
        if (e.status === 429) return lockedOut(e, setError);
        setError(e); // the API's words: wrong password, suspended tenant, deactivated account
      }
    },
  });
  mount(
    box,
    f.el,
    h('p', { class: 'row' }, h('a', { href: '#forgot' }, 'Forgot your password?'), h('a', { href: '#invite' }, 'Accept an invitation')),
    h('p', { class: 'muted' }, h('a', { href: '/' }, 'Back to the website')),
  );
  (box.querySelector('input[name="email"]').value ? box.querySelector('input[name="password"]') : box.querySelector('input[name="email"]')).focus();
}

/** lockedOut: the lockout message with the wait the server gave; the
 * button waits as long. */
function lockedOut(e, setError) {
  const left = e.retryAfter || 60;
  const btn = box.querySelector('button[type="submit"]');
  setError({ message: `Too many failed sign-ins: sign-in is locked. Try again in ${fmtWait(left)}.` });
  clearTimeout(lockTimer);
  setTimeout(() => (btn.disabled = true)); // after the form re-enables it
  lockTimer = setTimeout(() => (btn.disabled = false), left * 1000);
}

// ---- mailed tokens ------------------------------------------------------------------

/** post: a public API call (no session); throws ApiError. */
async function post(path, body) {
  const r = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const j = await r.json().catch(() => null);
  if (!r.ok) throw new ApiError(r.status, j, r.headers);
  return j;
}

function title(text) {
  document.getElementById('login-title').textContent = text;
  document.title = `${text} · BizOSaaS`;
}

const back = () => h('p', null, h('a', { href: '#' }, 'Back to sign in'));

function forgot() {
  title('Reset your password');
  const f = form({
    fields: [{ name: 'email', label: 'E-mail', type: 'email', required: true, autocomplete: 'username' }],
    submitLabel: 'Mail me a reset token',
    labelledBy: 'login-title',
    onSubmit: async (v) => {
      const r = await post('/api/v1/auth/password/forgot', v);
      mount(box, h('p', { role: 'status' }, `${r.message}.`), h('p', null, h('a', { href: '#reset' }, 'I have a token')), back());
      box.querySelector('a').focus();
    },
  });
  mount(box, f.el, h('p', null, h('a', { href: '#reset' }, 'I already have a token')), back());
  box.querySelector('input').focus();
}

function reset() {
  title('Set a new password');
  const f = form({
    fields: [
      { name: 'token', label: 'Reset token', required: true, autocomplete: 'off', hint: 'From the mail "Reset your password".' },
      { name: 'password', label: 'New password', type: 'password', required: true, autocomplete: 'new-password' },
    ],
    submitLabel: 'Set password',
    labelledBy: 'login-title',
    onSubmit: async (v) => {
      await post('/api/v1/auth/password/reset', v);
      mount(box, h('p', { role: 'status' }, 'Your password is set; every earlier session was ended.'), h('p', null, h('a', { href: '#', class: 'btn primary' }, 'Sign in')));
      box.querySelector('a').focus();
    },
  });
  mount(box, f.el, back());
  box.querySelector('input').focus();
}

function invite() {
  title('Accept an invitation');
  const f = form({
    fields: [
      { name: 'invitation_token', label: 'Invitation token', required: true, autocomplete: 'off', hint: 'From the mail "You are invited to BizOSaaS".' },
      { name: 'email', label: 'E-mail', type: 'email', required: true, autocomplete: 'username', hint: 'The address the invitation was sent to.' },
      { name: 'name', label: 'Your name', autocomplete: 'name' },
      { name: 'password', label: 'Choose a password', type: 'password', required: true, autocomplete: 'new-password' },
    ],
    submitLabel: 'Join',
    labelledBy: 'login-title',
    onSubmit: async (v) => {
      await post('/api/v1/auth/register', v);
      const s2 = await login(v.email, v.password);
      location.assign(target(s2.user));
    },
  });
  mount(box, f.el, back());
  box.querySelector('input').focus();
}

function route() {
  const mode = location.hash.slice(1);
  if (mode === 'forgot') return forgot();
  if (mode === 'reset') return reset();
  if (mode === 'invite') return invite();
  title('Sign in to BizOSaaS');
  return start();
}
window.addEventListener('hashchange', route);

/** start: the sign-in form, or "continue" when a session is stored. */
function start() {
  const s = session();
  if (!s || !s.user) return render();
  mount(
    box,
    h('p', null, `You are signed in as ${s.user.email}.`),
    h('div', { class: 'row' }, h('a', { class: 'btn primary', href: target(s.user) }, 'Continue'), h('a', { class: 'btn', href: '#', id: 'other' }, 'Use another account')),
  );
  box.querySelector('#other').addEventListener('click', (ev) => {
    ev.preventDefault();
    render();
  });
}

route();

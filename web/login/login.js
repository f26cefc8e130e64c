// login.js — the sign-in page: e-mail and password, a two-factor code when
// the account needs one, the lockout message with its wait, and where to go
// next (?next= when it is one of our portals, else the user's home portal).

import { login, session } from '../shared/api.js';
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
        if (e.status === 401) return setError({ message: 'The e-mail or password is incorrect.' });
        setError(e);
      }
    },
  });
  mount(box, f.el, h('p', { class: 'muted' }, h('a', { href: '/' }, 'Back to the website')));
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

const s = session();
if (s && s.user) {
  mount(
    box,
    h('p', null, `You are signed in as ${s.user.email}.`),
    h('div', { class: 'row' }, h('a', { class: 'btn primary', href: target(s.user) }, 'Continue'), h('a', { class: 'btn', href: '#', id: 'other' }, 'Use another account')),
  );
  box.querySelector('#other').addEventListener('click', (ev) => {
    ev.preventDefault();
    render();
  });
} else {
  render();
}

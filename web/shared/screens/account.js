// account.js — the signed-in user's own account, in every portal: name
// (PATCH /auth/me), password (POST /auth/password/change) and two-factor
// sign-in (TOTP: enrol, confirm with a code, recovery codes shown once;
// disable with a code).

import { api, refreshUser, user } from '../api.js';
import { form, h, mount, pageHead, toast } from '../ui.js';

export function accountScreen({ nav = 'You' } = {}) {
  return {
    id: 'account',
    path: '/account',
    title: 'Your account',
    nav,
    render() {
      const u = user();
      const profile = form({
        fields: [
          { name: 'email', label: 'E-mail', value: u.email, hint: 'Your sign-in name; an administrator can change it.' },
          { name: 'name', label: 'Name', value: u.name, autocomplete: 'name' },
        ],
        submitLabel: 'Save profile',
        labelledBy: 'profile-h',
        onSubmit: async (v) => {
          await api('PATCH', '/api/v1/auth/me', { name: v.name || '' });
          await refreshUser();
          toast('Profile saved', 'success');
        },
      });
      profile.controls.email.readOnly = true;

      const password = form({
        fields: [
          { name: 'current_password', label: 'Current password', type: 'password', required: true, autocomplete: 'current-password' },
          { name: 'new_password', label: 'New password', type: 'password', required: true, autocomplete: 'new-password' },
        ],
        submitLabel: 'Change password',
        labelledBy: 'password-h',
        onSubmit: async (v) => {
          await api('POST', '/api/v1/auth/password/change', v);
          password.el.reset();
          toast('Password changed', 'success');
        },
      });

      const mfa = h('div');
      const renderMfa = () => {
        const cur = user();
        if (cur.totp_enabled) {
          mount(
            mfa,
            h('p', null, 'Two-factor sign-in is on.'),
            form({
              fields: [{ name: 'code', label: 'Current code to turn it off', required: true, autocomplete: 'one-time-code', inputmode: 'numeric' }],
              submitLabel: 'Turn off two-factor',
              onSubmit: async (v) => {
                await api('POST', '/api/v1/auth/mfa/totp/disable', v);
                await refreshUser();
                toast('Two-factor sign-in is off', 'success');
                renderMfa();
              },
            }).el,
          );
          return;
        }
        mount(
          mfa,
          h('p', null, 'Two-factor sign-in is off. Turn it on to require a code from an authenticator app when you sign in.'),
          h('button', {
            type: 'button',
            onclick: async () => {
              try {
                const en = await api('POST', '/api/v1/auth/mfa/totp/enroll', {});
                mount(
                  mfa,
                  h('p', null, 'Add this key to your authenticator app, then enter the code it shows.'),
                  h('dl', { class: 'props' }, h('dt', null, 'Key'), h('dd', null, h('code', { id: 'totp-secret' }, en.secret)), h('dt', null, 'Link'), h('dd', null, h('a', { href: en.otpauth_uri }, 'Open in authenticator'))),
                  form({
                    fields: [{ name: 'code', label: 'Code from the app', required: true, autocomplete: 'one-time-code', inputmode: 'numeric' }],
                    submitLabel: 'Turn on two-factor',
                    onSubmit: async (v) => {
                      const r = await api('POST', '/api/v1/auth/mfa/totp/confirm', v);
                      await refreshUser();
                      mount(
                        mfa,
                        h('p', { role: 'status' }, 'Two-factor sign-in is on. Keep these recovery codes somewhere safe: each signs you in once if you lose your phone. They are shown only now.'),
                        h('ul', { id: 'recovery-codes' }, r.recovery_codes.map((c) => h('li', null, h('code', null, c)))),
                        h('button', { type: 'button', onclick: renderMfa }, 'Done'),
                      );
                    },
                  }).el,
                );
                mfa.querySelector('input')?.focus();
              } catch (e) {
                toast(e.message, 'error');
              }
            },
          }, 'Set up two-factor sign-in'),
        );
      };
      renderMfa();

      return h(
        'section',
        null,
        pageHead('Your account'),
        h('div', { class: 'card' }, h('h2', { id: 'profile-h' }, 'Profile'), profile.el),
        h('div', { class: 'card' }, h('h2', { id: 'password-h' }, 'Password'), password.el),
        h('div', { class: 'card' }, h('h2', null, 'Two-factor sign-in'), mfa),
      );
    },
  };
}

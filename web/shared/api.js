// api.js — every call to the BizOSaaS API goes through here.
//
// The session (access token, refresh token, expiry, the user) lives in
// localStorage under one key so that a reload, or a second tab, keeps it.
// A call whose token has expired — or that is answered 401 — refreshes the
// session once through /api/v1/auth/refresh and is retried; refresh tokens
// rotate on every use and a reused one revokes the whole family, so
// refreshes are serialized across tabs with the Web Locks API and the
// stored session is re-read inside the lock (another tab may already have
// refreshed). logout() revokes the session server-side and clears every
// bz.session* key and sessionStorage.

const KEY = 'bz.session';
const SKEW_MS = 30_000; // refresh this long before the access token expires

/** ApiError: a failed call; code and message come from the API's error
 * envelope {"error":{"code","message"}}; field names the field a
 * validation message is about ("field 'name' is required"). */
export class ApiError extends Error {
  constructor(status, body, headers) {
    const e = (body && body.error) || {};
    super(e.message || `request failed (${status})`);
    this.status = status;
    this.code = e.code || (status === 0 ? 'network_error' : 'http_error');
    this.details = e.details || null;
    this.requestId = e.request_id || null;
    const m = /field '([A-Za-z0-9_.]+)'/.exec(this.message);
    this.field = e.field || (m ? m[1] : null);
    const ra = headers && headers.get('Retry-After');
    this.retryAfter = ra && /^\d+$/.test(ra) ? Number(ra) : null;
  }
}

function read() {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) || 'null');
    return s && s.access_token ? s : null;
  } catch {
    return null;
  }
}

function write(body, user) {
  const s = {
    access_token: body.access_token,
    refresh_token: body.refresh_token,
    expires_at: Date.now() + (body.expires_in || 3600) * 1000,
    user: body.user || user || null,
  };
  localStorage.setItem(KEY, JSON.stringify(s));
  return s;
}

/** session: the stored session {access_token, refresh_token, expires_at, user} or null. */
export function session() {
  return read();
}

/** user: the signed-in user (from the login answer or /auth/me), or null. */
export function user() {
  const s = read();
  return s ? s.user : null;
}

/** hasRole: the signed-in user holds one of roles. */
export function hasRole(...roles) {
  const u = user();
  return !!u && Array.isArray(u.roles) && u.roles.some((r) => roles.includes(r));
}

/** clearSession: forgets everything this app stored for the session. */
export function clearSession() {
  for (const k of Object.keys(localStorage)) if (k.startsWith(KEY)) localStorage.removeItem(k);
  sessionStorage.clear();
}

async function send(method, path, body, token, extraHeaders) {
  const headers = { Accept: 'application/json', ...extraHeaders };
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload;
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload, credentials: 'omit', cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, { error: { message: 'The server cannot be reached. Check your connection.' } });
  }
  const text = res.status === 204 ? '' : await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) throw new ApiError(res.status, json, res.headers);
  return json;
}

let refreshing = null; // one refresh in flight per tab

async function refreshLocked(staleToken) {
  const cur = read();
  if (!cur) return null;
  // another tab (or call) refreshed while we waited for the lock
  if (cur.access_token !== staleToken && cur.expires_at - SKEW_MS > Date.now()) return cur;
  try {
    const body = await send('POST', '/api/v1/auth/refresh', { refresh_token: cur.refresh_token });
    return write(body, cur.user);
  } catch (e) {
    if (e.status === 401) clearSession();
    throw e;
  }
}

/** refresh: rotates the session once (shared by concurrent callers). */
export function refresh(staleToken) {
  if (!refreshing) {
    const run = () => refreshLocked(staleToken);
    const p = navigator.locks ? navigator.locks.request('bz-refresh', run) : run();
    refreshing = p.finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

/** onSignedOut: called when the session is gone (refresh refused). */
let signedOut = () => {
  location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
};
export function onSignedOut(fn) {
  signedOut = fn;
}

/**
 * api: calls the API with the session's token. Refreshes first when the
 * token is about to expire, and once more on a 401. Throws ApiError.
 * background: a call the user did not ask for (a widget's poll, the bell):
 * a missing or refused session throws without sending the page to the
 * login page (the user's next action does).
 */
export async function api(method, path, body, { headers, background = false } = {}) {
  let s = read();
  if (!s) {
    if (!background) signedOut();
    throw new ApiError(401, { error: { code: 'unauthorized', message: 'You are signed out.' } });
  }
  if (s.expires_at - SKEW_MS <= Date.now()) {
    try {
      s = (await refresh(s.access_token)) || s;
    } catch {
      // fall through: the call answers 401 and is handled below
    }
  }
  try {
    return await send(method, path, body, s.access_token, headers);
  } catch (e) {
    if (e.status !== 401) throw e;
    let fresh;
    try {
      fresh = await refresh(s.access_token);
    } catch {
      fresh = null;
    }
    if (!fresh) {
      clearSession();
      if (!background) signedOut();
      throw e;
    }
    return send(method, path, body, fresh.access_token, headers);
  }
}

/** login: signs in; returns the session. Throws ApiError (401 with a
 * two-factor message when a code is needed; 429 with retryAfter). */
export async function login(email, password, totp) {
  const body = { email, password };
  if (totp) {
    if (/^\d{6,8}$/.test(totp)) body.totp_code = totp;
    else body.recovery_code = totp;
  }
  const r = await send('POST', '/api/v1/auth/login', body);
  clearSession();
  return write(r);
}

/** logout: revokes the session on the server (best effort) and clears it here. */
export async function logout() {
  const s = read();
  if (s) {
    try {
      await send('POST', '/api/v1/auth/logout', { refresh_token: s.refresh_token }, s.access_token);
    } catch {
      // an expired or revoked session is gone either way
    }
  }
  clearSession();
}

/** refreshUser: reloads the user from /auth/me into the session. */
export async function refreshUser() {
  const me = await api('GET', '/api/v1/auth/me');
  const s = read();
  if (s) {
    s.user = me;
    localStorage.setItem(KEY, JSON.stringify(s));
  }
  return me;
}

/** qs: a query string from an object, skipping empty values. */
export function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== '') p.set(k, v);
  const s = p.toString();
  return s ? `?${s}` : '';
}

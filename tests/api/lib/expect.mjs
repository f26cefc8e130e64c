// expect.mjs — assertions shared by the API tests.
//
// Works with both shapes of response the harness produces: request() from
// server.mjs ({status, headers: Headers, json}) and parseResponses() from
// raw.mjs ({status, headers: plain object, json}).

import assert from 'node:assert/strict';

/** header: a response header value (case-insensitive) or undefined. */
export function header(res, name) {
  const h = res.headers;
  if (typeof h.get === 'function') return h.get(name) ?? undefined;
  return h[name.toLowerCase()];
}

const UUIDV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** isUuidV7: true when s is a lower-case UUIDv7 string. */
export function isUuidV7(s) {
  return typeof s === 'string' && UUIDV7.test(s);
}

/** describe: a short text of a response for assertion messages. */
export function show(res) {
  const body = res.text ?? res.body ?? '';
  return `${res.status} ${body.length > 400 ? `${body.slice(0, 400)}...` : body}`;
}

/**
 * assertError: res is a JSON error envelope
 * {"error":{"code","message","request_id"}} with the given status and code,
 * whose request_id matches the X-Request-ID header, with a JSON content type
 * and a Content-Length.
 */
export function assertError(res, status, code) {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${show(res)}`);
  assert.ok(res.json && typeof res.json === 'object', `error body is not JSON: ${show(res)}`);
  const e = res.json.error;
  assert.ok(e && typeof e === 'object', `no "error" object: ${show(res)}`);
  assert.equal(e.code, code, `error code: ${show(res)}`);
  assert.equal(typeof e.message, 'string');
  assert.ok(e.message.length > 0, 'error message is empty');
  const rid = header(res, 'x-request-id');
  assert.ok(rid, 'error response has no X-Request-ID');
  assert.equal(e.request_id, rid, 'error.request_id differs from X-Request-ID');
  assert.match(header(res, 'content-type') || '', /^application\/json/);
  assert.ok(header(res, 'content-length') !== undefined, 'no Content-Length');
}

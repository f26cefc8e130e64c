// jwt.mjs — mint HS256 tokens for API tests, and forge bad ones on purpose.
//
// mintToken signs with node:crypto's HMAC-SHA256 under the secret the test
// servers run with. Any claim can be overridden, removed (value undefined
// via `omit`) or added (`extra`), and the header can be replaced, so tests
// can produce expired, not-yet-valid, wrongly-signed, alg:none or otherwise
// malformed tokens.

import crypto from 'node:crypto';

import { TEST_JWT_SECRET } from './server.mjs';

/** b64url: base64url without padding of a string, Buffer or JSON value. */
export function b64url(v) {
  const buf = Buffer.isBuffer(v) ? v : Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));
  return buf.toString('base64url');
}

/**
 * mintToken: a compact JWS. Defaults: sub random, roles ['super_admin'],
 * exp now+1h, iat now, iss/aud 'bizosaas', alg HS256, the test secret.
 * tenant_id is included when given. Options:
 *   alg     'HS256' (signed), 'none' (empty signature) or any other name
 *           (signed with HS256 anyway, so only the header lies)
 *   header  replaces the whole header object
 *   omit    claim names to leave out (e.g. ['exp'])
 *   extra   additional claims merged last
 */
export function mintToken({
  sub = crypto.randomUUID(),
  tenant_id,
  roles = ['super_admin'],
  exp,
  nbf,
  iat,
  iss = 'bizosaas',
  aud = 'bizosaas',
  alg = 'HS256',
  secret = TEST_JWT_SECRET,
  header,
  omit = [],
  extra = {},
} = {}) {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    sub,
    roles,
    iat: iat ?? now,
    exp: exp ?? now + 3600,
    iss,
    aud,
  };
  if (tenant_id !== undefined) claims.tenant_id = tenant_id;
  if (nbf !== undefined) claims.nbf = nbf;
  Object.assign(claims, extra);
  for (const k of omit) delete claims[k];
  const hdr = header ?? { alg, typ: 'JWT' };
  const signingInput = `${b64url(hdr)}.${b64url(claims)}`;
  if (alg === 'none') return `${signingInput}.`;
  const sig = crypto.createHmac('sha256', secret).update(signingInput).digest();
  return `${signingInput}.${b64url(sig)}`;
}

/** tamperPayload: the same token with one claim changed and the original
 * signature kept (so the signature no longer matches). */
export function tamperPayload(token, changes) {
  const [h, p, s] = token.split('.');
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  Object.assign(claims, changes);
  return `${h}.${b64url(claims)}.${s}`;
}

/** superAdminToken / tenantToken: the common identities. */
export function superAdminToken(opts = {}) {
  return mintToken({ roles: ['super_admin'], ...opts });
}

export function tenantToken(tenant_id, roles = ['tenant_admin'], opts = {}) {
  return mintToken({ tenant_id, roles, ...opts });
}

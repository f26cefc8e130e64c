// identity_es256.test.mjs — ES256 access tokens when a key pair is
// configured: the JWKS publishes the public key (kid = RFC 7638
// thumbprint) and verifies the issued tokens; algorithm confusion (HS256
// signed with the public key), a wrong or unknown kid and a foreign key
// are 401; rotation keeps tokens of the previous key valid.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { call, login, makeTenant, makeUser } from './identity_helpers.mjs';
import { assertError } from './lib/expect.mjs';
import { b64url } from './lib/jwt.mjs';
import { request, startServer, tempDir, testDb } from './lib/server.mjs';

const dir = tempDir('bizosaas-es256-');
function keyFile(name) {
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const file = path.join(dir, name);
  fs.writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  return { file, privateKey, publicPem: crypto.createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }) };
}
const k1 = keyFile('k1.pem');
const k2 = keyFile('k2.pem');

let srv;
let user;
before(async () => {
  srv = await startServer({ env: { BIZOSAAS_JWT_ES256_KEY_FILE: k1.file } });
  const t = await makeTenant(srv);
  user = await makeUser(srv, t, ['manager']);
});
after(async () => {
  await srv?.stop();
});

function parts(token) {
  const [h, p, s] = token.split('.');
  return { header: JSON.parse(Buffer.from(h, 'base64url')), payload: JSON.parse(Buffer.from(p, 'base64url')), input: `${h}.${p}`, sig: Buffer.from(s, 'base64url') };
}

/** es256: a token signed with key (ieee-p1363 R||S) under kid. */
function es256(key, kid, claims) {
  const input = `${b64url({ alg: 'ES256', typ: 'JWT', kid })}.${b64url(claims)}`;
  const sig = crypto.sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64url(sig)}`;
}

test('login issues ES256 tokens that verify with the published JWKS', async () => {
  const r = await login(srv, user.email);
  assert.equal(r.status, 200, r.text);
  const t = parts(r.json.access_token);
  assert.equal(t.header.alg, 'ES256');
  const jwks = await request(srv, 'GET', '/.well-known/jwks.json');
  assert.equal(jwks.status, 200);
  assert.equal(jwks.json.keys.length, 1);
  const jwk = jwks.json.keys[0];
  assert.equal(jwk.kid, t.header.kid);
  assert.equal(jwk.kty, 'EC');
  assert.equal(jwk.crv, 'P-256');
  assert.equal(jwk.alg, 'ES256');
  assert.equal(jwk.d, undefined);
  // the kid is the RFC 7638 thumbprint
  const canon = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  assert.equal(jwk.kid, crypto.createHash('sha256').update(canon).digest('base64url'));
  const pub = crypto.createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, format: 'jwk' });
  assert.ok(crypto.verify('sha256', Buffer.from(t.input), { key: pub, dsaEncoding: 'ieee-p1363' }, t.sig));
  assert.equal((await call(srv, 'GET', '/me', { token: r.json.access_token })).status, 200);
  // refresh issues ES256 too
  const f = await call(srv, 'POST', '/refresh', { body: { refresh_token: r.json.refresh_token } });
  assert.equal(parts(f.json.access_token).header.alg, 'ES256');
});

test('algorithm confusion, a wrong kid and a foreign key are 401', async () => {
  const r = await login(srv, user.email);
  const t = parts(r.json.access_token);
  const claims = t.payload;
  // HS256 "signed" with the server's public key as the HMAC secret
  const input = `${b64url({ alg: 'HS256', typ: 'JWT', kid: t.header.kid })}.${b64url(claims)}`;
  const confused = `${input}.${b64url(crypto.createHmac('sha256', k1.publicPem).update(input).digest())}`;
  assertError(await call(srv, 'GET', '/me', { token: confused }), 401, 'unauthorized');
  // signed by the right key but naming an unknown kid
  assertError(await call(srv, 'GET', '/me', { token: es256(k1.privateKey, 'no-such-kid', claims) }), 401, 'unauthorized');
  // signed by a foreign key but naming the server's kid
  assertError(await call(srv, 'GET', '/me', { token: es256(k2.privateKey, t.header.kid, claims) }), 401, 'unauthorized');
  // the same claims signed properly pass (so the rejections above are about the key)
  assert.equal((await call(srv, 'GET', '/me', { token: es256(k1.privateKey, t.header.kid, claims) })).status, 200);
  // no kid, and alg none with the kid
  const noKid = `${b64url({ alg: 'ES256', typ: 'JWT' })}.${b64url(claims)}.${r.json.access_token.split('.')[2]}`;
  assertError(await call(srv, 'GET', '/me', { token: noKid }), 401, 'unauthorized');
  const none = `${b64url({ alg: 'none', kid: t.header.kid })}.${b64url(claims)}.`;
  assertError(await call(srv, 'GET', '/me', { token: none }), 401, 'unauthorized');
});

test('rotation: a new signing key with the old one listed keeps old tokens valid', async () => {
  const old = (await login(srv, user.email)).json.access_token;
  const env = {
    BIZOSAAS_JWT_ES256_KEY_FILE: k2.file,
    BIZOSAAS_JWT_ES256_OLD_KEY_FILES: k1.file,
    ...(testDb() === 'sqlite' ? { BIZOSAAS_DATABASE_URL: `sqlite:${srv.dataDir}/bizosaas.db` } : {}),
  };
  const srv2 = await startServer({ env });
  try {
    const jwks = await request(srv2, 'GET', '/.well-known/jwks.json');
    assert.equal(jwks.json.keys.length, 2);
    assert.equal((await call(srv2, 'GET', '/me', { token: old })).status, 200);
    const fresh = (await login(srv2, user.email)).json.access_token;
    assert.notEqual(parts(fresh).header.kid, parts(old).header.kid);
    assert.ok(jwks.json.keys.some((k) => k.kid === parts(fresh).header.kid));
    // the first server does not know the new key
    assertError(await call(srv, 'GET', '/me', { token: fresh }), 401, 'unauthorized');
  } finally {
    await srv2.stop();
  }
});

test('a key file that is not an EC P-256 key stops the server at startup', async () => {
  const bad = path.join(dir, 'bad.pem');
  fs.writeFileSync(bad, 'not a key\n');
  const s = await startServer({ env: { BIZOSAAS_JWT_ES256_KEY_FILE: bad }, waitReady: false });
  const code = await s.exited;
  assert.equal(code.code, 1);
  assert.ok(s.stderr().some((l) => l.includes('not a PEM EC P-256 key')), s.stderr().join('\n'));
});

// token.mjs — print an HS256 super_admin token for benchmarks.
// Usage: node bench/lib/token.mjs SECRET
import crypto from 'node:crypto';

const secret = process.argv[2];
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const now = Math.floor(Date.now() / 1000);
const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({
  sub: 'bench',
  roles: ['super_admin'],
  iat: now,
  exp: now + 6 * 3600,
  iss: 'bizosaas',
  aud: 'bizosaas',
})}`;
const sig = crypto.createHmac('sha256', secret).update(input).digest('base64url');
console.log(`${input}.${sig}`);

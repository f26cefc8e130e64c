// spec_check.test.mjs — `bizosaas spec` against the repository's own
// openspec/ tree, copied to a temporary directory: the specs match the live
// route table; removing a route's row makes `spec check` fail naming the
// route, restoring it passes again; a spec claiming a route the binary
// lacks fails with its file and line; draft / archive / status round trip
// through the real binary.
//
// Skipped (with a message) while `bizosaas spec` is not wired into main.c.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';

import { ROOT, runCli, tempDir } from './lib/server.mjs';

let skip = false;

before(async () => {
  // Unwired, main.c answers "unknown command spec" (exit 2); wired, a bare
  // `spec` prints its usage (also exit 2).
  const r = await runCli(['spec']);
  if (r.code === 2 && /unknown command/.test(r.stderr)) {
    skip = 'bizosaas spec is not wired into this binary yet (unknown command)';
  }
});

/** copyOpenspec: a fresh temporary root holding a copy of openspec/. */
function copyOpenspec() {
  const root = tempDir('bizosaas-spec-');
  fs.cpSync(path.join(ROOT, 'openspec'), path.join(root, 'openspec'), { recursive: true });
  return root;
}

function specFiles(root) {
  const out = [];
  const base = path.join(root, 'openspec', 'specs');
  for (const cat of fs.readdirSync(base)) {
    for (const f of fs.readdirSync(path.join(base, cat))) {
      if (f.endsWith('.md')) out.push(path.join(base, cat, f));
    }
  }
  return out;
}

/** findRow: the spec file and line index of the implemented row of a route. */
function findRow(root, route) {
  for (const file of specFiles(root)) {
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const cells = lines[i].split('|').map((c) => c.trim().replace(/^`|`$/g, ''));
      if (cells.length >= 6 && cells[1] === route.method && cells[2] === route.pattern && cells[4] === 'implemented') {
        return { file, index: i, lines };
      }
    }
  }
  return null;
}

const check = (root) => runCli(['spec', 'check', '--root', root]);

test('the repository specs match the live route table', async (t) => {
  if (skip) return t.skip(skip);
  const root = copyOpenspec();
  const r = await check(root);
  assert.equal(r.code, 0, `spec check failed:\n${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /spec check: ok/);

  // every route of `routes --json` is an implemented row of exactly one spec
  const routes = JSON.parse((await runCli(['routes', '--json'])).stdout);
  assert.ok(routes.length > 0);
  for (const rt of routes) assert.ok(findRow(root, rt), `no implemented row for ${rt.method} ${rt.pattern}`);
});

test('a route missing from the specs fails the check, naming it; restoring passes', async (t) => {
  if (skip) return t.skip(skip);
  const root = copyOpenspec();
  const routes = JSON.parse((await runCli(['routes', '--json'])).stdout);
  const rt = routes.find((x) => x.pattern.startsWith('/api/')) || routes[0];
  const row = findRow(root, rt);
  assert.ok(row, `no row for ${rt.method} ${rt.pattern}`);
  const original = row.lines.join('\n');

  const without = row.lines.filter((_, i) => i !== row.index).join('\n');
  fs.writeFileSync(row.file, without);
  const r = await check(root);
  assert.equal(r.code, 1, `expected exit 1:\n${r.stdout}${r.stderr}`);
  const out = r.stdout + r.stderr;
  assert.ok(
    out.includes(`route ${rt.method} ${rt.pattern} `) && out.includes('no spec lists it as implemented'),
    `the route is not named:\n${out}`,
  );

  fs.writeFileSync(row.file, original);
  const again = await check(root);
  assert.equal(again.code, 0, `after restoring:\n${again.stdout}${again.stderr}`);
});

test('an implemented row the binary does not serve fails with file and line', async (t) => {
  if (skip) return t.skip(skip);
  const root = copyOpenspec();
  const rel = 'openspec/specs/backend/01-brain-gateway.md';
  const file = path.join(root, rel);
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const i = lines.findIndex((l) => l.startsWith('| GET | /livez |'));
  assert.ok(i >= 0, 'the gateway spec lists GET /livez');
  lines.splice(i + 1, 0, '| GET | /never-served | public | implemented | A route the binary lacks |');
  fs.writeFileSync(file, lines.join('\n'));
  const r = await check(root);
  assert.equal(r.code, 1);
  const out = r.stdout + r.stderr;
  assert.ok(
    out.includes(`${rel}:${i + 2}: GET /never-served is marked implemented but the route table has no such route`),
    out,
  );
});

test('a malformed row is reported with file:line and exit 1, never a crash', async (t) => {
  if (skip) return t.skip(skip);
  const root = copyOpenspec();
  const rel = 'openspec/specs/backend/12-marketing.md';
  const file = path.join(root, rel);
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const i = lines.findIndex((l) => l.startsWith('| GET | /api/v1/campaigns |'));
  lines[i] = '| GET | /api/v1/campaigns | campaigns.view | planned |';
  fs.writeFileSync(file, lines.join('\n') + '\0\xff garbage |||');
  for (const cmd of [['check'], ['list'], ['status']]) {
    const r = await runCli(['spec', ...cmd, '--root', root]);
    assert.equal(r.code, 1, `${cmd}: ${r.stderr}`);
    assert.equal(r.signal, null);
    assert.ok(r.stderr.includes(`${rel}:${i + 1}: an endpoint row has 5 cells`), r.stderr);
  }
});

test('draft, archive and status round trip through the binary', async (t) => {
  if (skip) return t.skip(skip);
  const root = copyOpenspec();
  const d = await runCli(['spec', 'draft', 'Gateway OpenAPI document', '--service', 'brain-gateway', '--root', root]);
  assert.equal(d.code, 0, d.stderr);
  const proposal = path.join(root, 'openspec/changes/gateway-openapi-document.md');
  assert.ok(fs.existsSync(proposal));
  assert.match(fs.readFileSync(proposal, 'utf8'), /^# Change: Gateway OpenAPI document\n/);

  const again = await runCli(['spec', 'draft', 'Gateway OpenAPI document', '--root', root]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already exists/);

  // the change proposes a planned endpoint; archiving merges it into the spec
  const text = fs.readFileSync(proposal, 'utf8').replace(
    '|--------|------|------------|--------|---------|\n',
    '|--------|------|------------|--------|---------|\n| GET | /openapi.yaml | public | planned | The document as YAML |\n',
  );
  fs.writeFileSync(proposal, text);
  const a = await runCli(['spec', 'archive', 'gateway-openapi-document', '--root', root]);
  assert.equal(a.code, 0, a.stderr);
  assert.ok(!fs.existsSync(proposal));
  const archived = fs.readdirSync(path.join(root, 'openspec/archive')).filter((f) => f.endsWith('-gateway-openapi-document.md'));
  assert.equal(archived.length, 1);
  const spec = fs.readFileSync(path.join(root, 'openspec/specs/backend/01-brain-gateway.md'), 'utf8');
  assert.match(spec, /\| GET \| \/openapi\.yaml \| public \| planned \| The document as YAML \|/);
  const entry = spec.search(/\n### \d{4}-\d{2}-\d{2} — Gateway OpenAPI document\n/);
  const changes = spec.indexOf('\n## Changes\n');
  assert.ok(changes >= 0 && entry > changes, 'the change is under ## Changes');

  // the counts changed: check wants the status file regenerated
  const stale = await check(root);
  assert.equal(stale.code, 1);
  assert.match(stale.stderr, /IMPLEMENTATION_STATUS\.md: out of date/);
  const s = await runCli(['spec', 'status', '--root', root]);
  assert.equal(s.code, 0, s.stderr);
  const ok = await check(root);
  assert.equal(ok.code, 0, ok.stderr);

  const list = await runCli(['spec', 'list', '--root', root]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^brain-gateway\s+backend\s+partial\s+\d+\s+\d+\s+openspec\/specs\/backend\/01-brain-gateway\.md$/m);
  const show = await runCli(['spec', 'show', 'brain-gateway', '--root', root]);
  assert.equal(show.code, 0);
  assert.equal(show.stdout, spec);
});

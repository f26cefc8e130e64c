// pg.mjs — stop and restart the test PostgreSQL cluster that
// scripts/pg-start.sh created, for database-fault tests.
//
// The cluster directory comes from BIZOSAAS_TEST_PG_DIR. pg_ctl runs as the
// owner of the data directory (postgres, via runuser, when we are root), the
// same way scripts/pg-stop.sh does. The postmaster's own command line is read
// from postmaster.opts before stopping and handed back on start, so the
// restarted server listens on the same port and socket directory whatever
// options pg-start.sh used.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** pgBinDir: the newest /usr/lib/postgresql/<ver>/bin. */
export function pgBinDir() {
  const base = '/usr/lib/postgresql';
  const versions = fs
    .readdirSync(base)
    .filter((v) => fs.existsSync(path.join(base, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql');
  return path.join(base, versions[0], 'bin');
}

/** pgDataDir: the data directory inside the cluster dir (DIR/data or DIR
 * itself, or the one subdirectory holding PG_VERSION). */
export function pgDataDir(dir) {
  for (const d of [path.join(dir, 'data'), dir]) {
    if (fs.existsSync(path.join(d, 'PG_VERSION'))) return d;
  }
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory() && fs.existsSync(path.join(dir, e.name, 'PG_VERSION'))) return path.join(dir, e.name);
  }
  throw new Error(`no PostgreSQL data directory under ${dir}`);
}

function asOwner(dataDir, cmd, args) {
  const uid = fs.statSync(dataDir).uid;
  if (process.getuid && process.getuid() === 0 && uid !== 0) {
    const user = execFileSync('id', ['-nu', String(uid)], { encoding: 'utf8' }).trim();
    return execFileSync('runuser', ['-u', user, '--', cmd, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** pgStop: stops the cluster (pg_ctl stop -m fast, waiting) and returns the
 * postmaster options to give back to pgStart. */
export function pgStop(dir) {
  const data = pgDataDir(dir);
  const optsFile = path.join(data, 'postmaster.opts');
  const raw = fs.existsSync(optsFile) ? fs.readFileSync(optsFile, 'utf8').trim() : '';
  // "/usr/lib/.../postgres" "-D" "/path" "-p" "5433" ... -> without the binary and -D.
  const tokens = [...raw.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]);
  const opts = [];
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] === '-D') {
      i++;
      continue;
    }
    opts.push(`"${tokens[i]}"`);
  }
  asOwner(data, path.join(pgBinDir(), 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
  return opts.join(' ');
}

/** pgStart: starts the cluster again with opts from pgStop, waiting until it
 * accepts connections. */
export function pgStart(dir, opts = '') {
  const data = pgDataDir(dir);
  const log = path.join(data, 'restart.log');
  const args = ['-D', data, '-w', '-t', '60', '-l', log];
  if (opts) args.push('-o', opts);
  args.push('start');
  asOwner(data, path.join(pgBinDir(), 'pg_ctl'), args);
}

// hold.mjs — open many idle keep-alive connections to a server, for
// measuring the memory an idle connection costs (bench/kernel.sh).
//
// Usage: node bench/lib/hold.mjs PORT COUNT
// Each connection sends one GET /livez, waits for its response, then stays
// open and silent. When every connection has been tried it prints
// "held N failed M" on one line, then holds them until SIGTERM/SIGINT.
// Only 127.0.0.1 is ever contacted.

import net from 'node:net';

const port = Number(process.argv[2]);
const count = Number(process.argv[3] || 10000);
const BATCH = 200;
if (!port || !count) {
  console.error('usage: node hold.mjs PORT COUNT');
  process.exit(2);
}

const sockets = [];
let held = 0;
let failed = 0;

function openOne() {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let buf = '';
    let done = false;
    const finish = (ok) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (ok) {
        held += 1;
        sockets.push(s);
      } else {
        failed += 1;
        s.destroy();
      }
      resolve();
    };
    const timer = setTimeout(() => finish(false), 10000);
    s.on('connect', () => s.write('GET /livez HTTP/1.1\r\nHost: bench\r\n\r\n'));
    s.on('data', (d) => {
      buf += d.toString('latin1');
      if (/^HTTP\/1\.1 200 /.test(buf) && buf.includes('\r\n\r\n') && buf.endsWith('}')) finish(true);
    });
    s.on('error', () => finish(false));
    s.on('close', () => {
      if (done && sockets.includes(s)) held -= 1;
      finish(false);
    });
  });
}

for (let i = 0; i < count; i += BATCH) {
  const n = Math.min(BATCH, count - i);
  await Promise.all(Array.from({ length: n }, openOne));
}
console.log(`held ${held} failed ${failed}`);

const quit = () => {
  for (const s of sockets) s.destroy();
  process.exit(0);
};
process.on('SIGTERM', quit);
process.on('SIGINT', quit);
setInterval(() => {}, 1 << 30);

#!/usr/bin/env node
// wait-ready.js <timeout-seconds> <name>=<readyUrl>@<pid> ...
// Polls each /health/ready until it answers 200. Prints "<name> ready" as each one does. Exits 0 when
// all are ready; otherwise prints "FAILED <name> <reason>" as the last line and exits 1 (first process
// that exited, else the first still not ready at the deadline).
'use strict';

const [timeoutArg, ...specs] = process.argv.slice(2);
const deadline = Date.now() + Number(timeoutArg) * 1000;
const pending = specs.map((s) => {
  const m = /^([^=]+)=(.+)@(\d+)$/.exec(s);
  if (!m) throw new Error(`bad spec ${s}`);
  return { name: m[1], url: m[2], pid: Number(m[3]), last: 'no answer yet' };
});

const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };

async function check(svc) {
  try {
    const res = await fetch(svc.url, { signal: AbortSignal.timeout(2000) });
    const body = (await res.text()).slice(0, 300).replace(/\s+/g, ' ');
    svc.last = `HTTP ${res.status} ${body}`;
    return res.status === 200;
  } catch (err) {
    svc.last = err.cause?.code ?? err.name ?? 'no answer';
    return false;
  }
}

async function main() {
  for (;;) {
    for (const svc of [...pending]) {
      if (await check(svc)) {
        console.log(`${svc.name} ready`);
        pending.splice(pending.indexOf(svc), 1);
      } else if (!alive(svc.pid)) {
        console.log(`FAILED ${svc.name} process ${svc.pid} exited`);
        process.exit(1);
      }
    }
    if (pending.length === 0) return;
    if (Date.now() > deadline) {
      const svc = pending[0];
      console.log(`FAILED ${svc.name} not ready after ${timeoutArg}s (last answer: ${svc.last})`);
      process.exit(1);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

main().catch((err) => { console.log(`FAILED - ${err.message}`); process.exit(1); });

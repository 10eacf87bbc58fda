/**
 * Decision benchmark: p50/p99 of one `evaluate()` inside the policy evaluator with 1,000 policies
 * (3 statements each, globs, tag/alias resources, context conditions). Two layouts: spread over 100
 * tenants (the usual case: a decision only scans operator + own-tenant statements) and all 1,000 in
 * the caller's tenant (the worst case: every statement is scanned). Run: `npm run bench:policy`
 * (builds, then `node dist/test/bench/policy-decide.bench.js`); prints a table and saves JSON under
 * test/bench/results/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluate, PolicySet, type DecisionRequest, type Policy } from '@ekm/policy-engine';

const POLICIES = 1000;
const WARMUP = 20_000;
const MEASURED = 100_000;

function policies(tenantOf: (i: number) => string): Policy[] {
  return Array.from({ length: POLICIES }, (_, i): Policy => ({
    policyId: `pol-${String(i).padStart(4, '0')}`, tenant: tenantOf(i), version: 1,
    document: { statements: [
      { sid: 'use', effect: 'allow', roles: [`app-${i % 20}`], actions: ['keys:Generate*', 'keys:Decrypt'], resources: [`alias/app-${i}-*`, `tag:team=t${i % 50}`], conditions: [{ op: 'in', key: 'collection', values: ['docs', 'chunks', `c${i}`] }] },
      { sid: 'read', effect: 'allow', principals: [`p-${i}`], actions: ['keys:Describe*', 'keys:List*'], resources: ['*'] },
      { sid: 'lock', effect: 'deny', principals: ['*'], actions: ['keys:Destroy*', 'keys:ScheduleKeyDeletion'], resources: [`tag:env=prod`], conditions: [{ op: 'after', time: '2026-01-01T00:00:00Z' }] },
    ] },
  }));
}

function requests(tenantOf: (i: number) => string): DecisionRequest[] {
  const actions = ['keys:GenerateDataKey', 'keys:Decrypt', 'keys:Encrypt', 'keys:DescribeKey', 'keys:DestroyKey'];
  return Array.from({ length: 1000 }, (_, i): DecisionRequest => {
    const tenant = tenantOf(i);
    return {
      principal: { principalId: `p-${i}`, tenant, roles: [`app-${i % 20}`], status: 'Active' },
      action: actions[i % actions.length],
      resource: { keyId: `k-${i}`, tenant, tags: { team: `t${i % 50}`, env: i % 3 === 0 ? 'prod' : 'dev' }, aliases: [`alias/app-${i}-docs`] },
      encryptionContext: { collection: i % 2 === 0 ? 'docs' : 'other', asset: `a-${i}` },
      now: '2027-06-01T00:00:00Z',
    };
  });
}

function measure(set: PolicySet, reqs: DecisionRequest[]): { p50: number; p99: number; max: number; perSec: number; allowed: number } {
  for (let i = 0; i < WARMUP; i++) evaluate(set, reqs[i % reqs.length]);
  const samples = new Float64Array(MEASURED);
  let allowed = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < MEASURED; i++) {
    const s = process.hrtime.bigint();
    if (evaluate(set, reqs[i % reqs.length]).allowed) allowed++;
    samples[i] = Number(process.hrtime.bigint() - s) / 1000;
  }
  const total = Number(process.hrtime.bigint() - t0) / 1e9;
  samples.sort();
  const at = (q: number): number => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  return { p50: at(0.5), p99: at(0.99), max: samples[samples.length - 1], perSec: Math.round(MEASURED / total), allowed };
}

function main(): void {
  const spread = (i: number): string => (i % 100 === 0 ? '*' : `tenant-${i % 100}`);
  const single = (i: number): string => (i % 100 === 0 ? '*' : 'tenant-1');
  const scenarios = [
    { name: '1000 policies over 100 tenants', set: PolicySet.of(policies(spread)), reqs: requests(spread) },
    { name: '1000 policies in one tenant (worst case)', set: PolicySet.of(policies(single)), reqs: requests(() => 'tenant-1') },
  ];
  const results = scenarios.map((s) => ({ scenario: s.name, policies: POLICIES, statements: POLICIES * 3, samples: MEASURED, ...measure(s.set, s.reqs) }));
  const fmt = (n: number): string => n.toFixed(2).padStart(9);
  process.stdout.write(`\npolicy evaluator, ${MEASURED} decisions per scenario (µs)\n`);
  process.stdout.write(`${'scenario'.padEnd(42)}${'p50'.padStart(9)}${'p99'.padStart(9)}${'max'.padStart(9)}${'decisions/s'.padStart(13)}\n`);
  for (const r of results) process.stdout.write(`${r.scenario.padEnd(42)}${fmt(r.p50)}${fmt(r.p99)}${fmt(r.max)}${String(r.perSec).padStart(13)}\n`);
  const dir = join(process.cwd(), 'test', 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `policy-decide-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ benchmark: 'policy-decide', node: process.version, at: new Date().toISOString(), unit: 'microseconds', results }, null, 2)}\n`);
  process.stdout.write(`saved ${file}\n`);
}

main();

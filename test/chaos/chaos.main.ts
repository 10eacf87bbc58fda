/**
 * `npm run chaos [-- scenario ...]`: every chaos scenario (or the named ones) on private stacks,
 * one stack per root-of-trust kind, a table on stdout and the full results as JSON
 * (EKM_CHAOS_OUT, default .ekm/chaos-results.json). Exit code 1 when any scenario fails.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ChaosStack } from './chaos-stack';
import { runScenario, SCENARIOS, type ScenarioResult } from './scenarios';
import { repoRoot } from './service-process';

async function main(): Promise<void> {
  const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const chosen = (names.length > 0 ? names : Object.keys(SCENARIOS)).map((n) => {
    const s = SCENARIOS[n];
    if (!s) throw new Error(`unknown scenario ${n}; known: ${Object.keys(SCENARIOS).join(', ')}`);
    return s;
  });
  const opts = { ops: Number(process.env.EKM_CHAOS_OPS ?? 600), concurrency: 6, maxMs: 60_000, injectAfterMs: 2000, tailMs: 3000 };
  const results: ScenarioResult[] = [];
  for (const kind of ['software', 'pkcs11', 'scale-out'] as const) {
    const mine = chosen.filter((s) => s.stack === kind);
    if (mine.length === 0) continue;
    const stack = await ChaosStack.start(kind === 'scale-out' ? { scaleOut: true } : { root: kind, ...(kind === 'pkcs11' ? { keysEnv: { EKM_KEK_CACHE_TTL_MS: '0' } } : {}) });
    console.log(`stack (${kind}) up in ${stack.dir}`);
    try {
      for (const s of mine) {
        let r: ScenarioResult;
        try {
          r = await runScenario(stack, s, opts);
        } catch (err) {
          console.log(`${s.name}: harness error ${(err as Error).stack}`);
          throw err;
        }
        results.push(r);
        console.log(`${r.passed ? 'PASS' : 'FAIL'} ${r.name} (${r.seconds} s, recovery ${r.recoveryMs} ms)\n  outcomes ${JSON.stringify(r.outcomes)}\n  ${r.notes.join('\n  ')}`);
        for (const f of r.failures.slice(0, 10)) console.log(`  failure: ${f}`);
        if (r.report.warnings.length > 0) console.log(`  warnings: ${r.report.warnings.length}, e.g. ${r.report.warnings[0]}`);
      }
    } finally {
      await stack.stop({ keepDir: process.env.EKM_CHAOS_KEEP === '1' || results.some((r) => !r.passed) });
    }
  }
  const out = process.env.EKM_CHAOS_OUT ?? join(repoRoot(), '.ekm', 'chaos-results.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(results, null, 2));
  console.log(`\n| scenario | acked | errors | unknown (done/not) | decrypted | audit | result |\n|---|---|---|---|---|---|---|`);
  for (const r of results) {
    const a = r.report;
    console.log(`| ${r.name} | ${a.acked} | ${a.errors} | ${a.unknown} (${a.unknownDone}/${a.unknownNotDone}) | ${a.decrypted} | ${a.audit ? `${a.audit.entries} entries, ${a.audit.ok ? 'verifies' : 'FAILS'}` : '-'} | ${r.passed ? 'pass' : 'FAIL'} |`);
  }
  process.exitCode = results.every((r) => r.passed) ? 0 : 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

/**
 * Self time by function of a V8 `.cpuprofile` (node --cpu-prof): each sample is charged to the frame on
 * top of the stack. Also rolled up by origin (our code by file, node_modules by package, node internals,
 * GC/idle/program). Usage: node dist/test/bench/cpu-profile-summary.js <file.cpuprofile> [top].
 */
import { readFileSync } from 'node:fs';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }
export interface CpuProfile { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] }

export interface SelfTime { readonly name: string; readonly ms: number; readonly percent: number }
export interface ProfileSummary {
  readonly totalMs: number;
  readonly byFunction: SelfTime[];
  readonly byOrigin: SelfTime[];
  /** Inclusive time (self + callees, each sample once per frame) of EKM's own functions (dist/). */
  readonly ownInclusive: SelfTime[];
}

function originOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const dist = url.indexOf('/dist/');
  return dist >= 0 ? url.slice(dist + '/dist/'.length) : url;
}

/**
 * `window` (ms since the profile started) keeps only the samples taken in it: the load, not start-up
 * (module loading, scrypt unsealing of the root key) or the fixture.
 */
export function summarizeProfile(p: CpuProfile, top = 25, window?: { fromMs: number; toMs: number }): ProfileSummary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  let at = 0;
  for (let i = 0; i < p.samples.length; i++) {
    at += p.timeDeltas[i] ?? 0;
    if (window && (at < window.fromMs * 1000 || at > window.toMs * 1000)) continue;
    selfUs.set(p.samples[i], (selfUs.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const fnMs = new Map<string, number>();
  const originMs = new Map<string, number>();
  let total = 0;
  for (const [id, t] of selfUs) {
    const n = byId.get(id);
    if (!n) continue;
    const { functionName, url, lineNumber } = n.callFrame;
    const origin = originOf(url, functionName);
    const name = `${functionName || '(anonymous)'} ${url ? `${origin}:${lineNumber + 1}` : ''}`.trim();
    fnMs.set(name, (fnMs.get(name) ?? 0) + t);
    originMs.set(origin, (originMs.get(origin) ?? 0) + t);
    total += t;
  }
  const inclusive = new Map<string, number>();
  for (const [id, t] of selfUs) {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)?.callFrame;
      if (!f || !f.url.includes('/dist/')) continue;
      const name = `${f.functionName || '(anonymous)'} ${originOf(f.url, f.functionName)}:${f.lineNumber + 1}`;
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + t);
    }
  }
  const rank = (m: Map<string, number>): SelfTime[] => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([name, t]) => ({ name, ms: Math.round(t / 100) / 10, percent: Math.round((t / total) * 1000) / 10 }));
  return { totalMs: Math.round(total / 1000), byFunction: rank(fnMs), byOrigin: rank(originMs), ownInclusive: rank(inclusive) };
}

export function profileMarkdown(s: ProfileSummary): string {
  const table = (title: string, xs: SelfTime[]): string =>
    [`| ${title} | self ms | % |`, '|---|---|---|', ...xs.map((x) => `| ${x.name.replace(/\|/g, '\\|')} | ${x.ms} | ${x.percent} |`)].join('\n');
  return `Profile: ${s.totalMs} ms sampled.\n\n${table('function (self time)', s.byFunction)}\n\n${table('origin (self time)', s.byOrigin)}\n\n`
    + `${table('EKM function (inclusive time)', s.ownInclusive).replace('| self ms |', '| incl. ms |')}`;
}

if (require.main === module) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node dist/test/bench/cpu-profile-summary.js <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  process.stdout.write(`${profileMarkdown(summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(top) || 25))}\n`);
}

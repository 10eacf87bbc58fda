/**
 * Help, completion and health without services: every command's --help has examples, the completion
 * scripts are valid shell naming every command, and `ekm health` reports DOWN (exit 3) as JSON.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { buildProgram, runCli } from './program';
import { CliContext } from './cli-context';
import { completionTable } from './commands/completion.commands';
import { adminUrl } from './commands/admin.commands';

async function run(argv: string[], cwd = mkdtempSync(join(tmpdir(), 'ekm-cli-')), env: NodeJS.ProcessEnv = {}) {
  let out = '';
  let err = '';
  const code = await runCli(argv, { io: { stdout: (s) => { out += s.toString(); }, stderr: (s) => { err += s; } }, env, cwd });
  return { code, out, err };
}

const io = { stdout: () => undefined, stderr: () => undefined };
const paths = (cmd: Command, prefix: string[] = []): string[][] =>
  cmd.commands.filter((c) => c.name() !== 'help').flatMap((c) => [[...prefix, c.name()], ...paths(c, [...prefix, c.name()])]);

describe('--help', () => {
  const all = paths(buildProgram(new CliContext({ io, env: {}, cwd: tmpdir() })));

  it('covers the admin, health and completion commands', () => {
    expect(all.map((p) => p.join(' '))).toEqual(expect.arrayContaining(['admin projections rebuild', 'admin relay status', 'health', 'completion']));
  });

  it.each(all.map((p) => [p.join(' ')]))('ekm %s --help shows examples and exits 0', async (path) => {
    const r = await run([...path.split(' '), '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\nExamples:\n {2}\$ .*\bekm /);
  });
});

describe('ekm completion', () => {
  it.each(['bash', 'zsh'])('%s prints a script that the shell parses and that names every command', async (shell) => {
    const r = await run(['completion', shell]);
    expect(r.code).toBe(0);
    const file = join(mkdtempSync(join(tmpdir(), 'ekm-compl-')), 'ekm.sh');
    writeFileSync(file, r.out);
    execFileSync('bash', ['-n', file]); // zsh's script is the bash function behind bashcompinit
    expect(r.out).toContain('complete -o default -F _ekm_complete ekm');
    expect(r.out).toContain('"admin projections") words="rebuild');
  });

  it('completes subcommands after a command path (bash, as a shell would call it)', async () => {
    const r = await run(['completion', 'bash']);
    const file = join(mkdtempSync(join(tmpdir(), 'ekm-compl-')), 'ekm.sh');
    writeFileSync(file, r.out);
    const script = `source ${file}; COMP_WORDS=(ekm admin relay ""); COMP_CWORD=3; _ekm_complete; echo "\${COMPREPLY[*]}"`;
    expect(execFileSync('bash', ['-c', script]).toString()).toMatch(/^status /);
  });

  it('an unknown shell is a usage error (exit 2)', async () => {
    expect((await run(['completion', 'tcsh'])).code).toBe(2);
  });

  it('fish: one complete line per command path, conditioned on the path typed so far', async () => {
    const r = await run(['completion', 'fish']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('complete -c ekm -f\n');
    expect(r.out).toMatch(/complete -c ekm -n '__ekm_at ""' -a '[^']*\bkey\b[^']*\baudit\b/);
    expect(r.out).toMatch(/complete -c ekm -n '__ekm_at "key"' -a '[^']*\bcreate\b/);
    expect(r.out).toMatch(/complete -c ekm -n '__ekm_at "rotation rewrap"' -a '[^']*--version/);
    expect(r.out).toContain("set -g __ekm_paths 'key' ");
  });

  // fish is not a dependency of the suite: where it is installed, check the script as fish runs it.
  const hasFish = ((): boolean => { try { execFileSync('fish', ['--version']); return true; } catch { return false; } })();
  (hasFish ? it : it.skip)('fish completes command paths and their options (fish -n, complete -C)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ekm-compl-')), 'ekm.fish');
    writeFileSync(file, (await run(['completion', 'fish'])).out);
    execFileSync('fish', ['-n', file]);
    const complete = (line: string): string[] => execFileSync('fish', ['-c', `source ${file}; complete -C "${line}"`]).toString().trim().split('\n');
    expect(complete('ekm key cr')).toEqual(['create']);
    expect(complete('ekm --json rotation rewrap --')).toEqual(expect.arrayContaining(['--key', '--version', '--json']));
    expect(complete('ekm admin relay ')).toEqual(expect.arrayContaining(['status']));
  });

  it('the table has every command path', () => {
    const t = completionTable(buildProgram(new CliContext({ io, env: {}, cwd: tmpdir() })));
    expect(t.get('')).toEqual(expect.arrayContaining(['key', 'admin', 'health', '--json']));
    expect(t.get('key')).toEqual(expect.arrayContaining(['create', 'rotate']));
  });
});

describe('ekm health', () => {
  it('reports every service DOWN as one JSON document and exits 3 when nothing answers', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'ekm-health-'));
    mkdirSync(join(cwd, '.ekm'));
    const services = Object.fromEntries(['keys', 'policy', 'rotation', 'audit'].map((s) => [s, { ready: 'http://127.0.0.1:9/health/ready' }]));
    writeFileSync(join(cwd, '.ekm', 'stack.json'), JSON.stringify({ natsUrl: 'nats://127.0.0.1:9', postgresUrl: 'postgres://postgres@127.0.0.1:9/ekm', services }));
    const r = await run(['health', '--json', '--timeout', '500'], cwd);
    expect(r.code).toBe(3);
    const doc = JSON.parse(r.out) as { ok: boolean; services: Array<{ service: string; ok: boolean; bus: { detail: string } }> };
    expect(doc.ok).toBe(false);
    expect(doc.services.map((s) => [s.service, s.ok])).toEqual([['keys', false], ['policy', false], ['rotation', false], ['audit', false]]);
    expect(doc.services[0].bus.detail).toMatch(/^EKM_UNAVAILABLE/);
    // The rebuild finds its admin URL in the same stack.json.
    expect(adminUrl(undefined, {}, cwd)).toBe('postgres://postgres@127.0.0.1:9/ekm');
  });

  it('admin projections rebuild without any admin URL is a configuration error (exit 4)', async () => {
    const r = await run(['admin', 'projections', 'rebuild', '--json']);
    expect(r.code).toBe(4);
    expect(JSON.parse(r.err)).toMatchObject({ code: 'EKM_CLI_CONFIG', message: expect.stringContaining('--admin-url') });
  });
});

/**
 * `npm run pack` (infra/scripts/pack.js): the SDK and CLI tarballs install with `npm install <tarball>`
 * into an empty project (their dependencies come from the npm registry, nothing from this checkout)
 * and work there: the installed SDK creates a key and a data key against a real keys service, its
 * types compile in a strict TypeScript consumer, and the installed `ekm` answers `--help` and a real
 * `ekm key list`. Needs the npm registry (or a warm npm cache).
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '../support/pg';
import { startNats, stopServer, type ServerHandle } from '../support/servers';
import { scaled } from '../support/wait-for';
import { startKeysApp, type KeysApp } from './keys-crypto.support';

jest.setTimeout(scaled(300_000)); // npm install from the registry

const ROOT = join(__dirname, '..', '..');
// The keys service runs in this process: a child that calls it must be awaited, never run synchronously.
const run = promisify(execFile);

describe('npm run pack: installable SDK and CLI', () => {
  let dir: string;
  let project: string;
  let tarballs: Record<'sdk' | 'cli', string>;
  let nats: ServerHandle;
  let keys: KeysApp;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ekm-pack-'));
    const out = join(dir, 'packages');
    // dist/ is fresh (global setup builds when stale): pack without building again.
    execFileSync(process.execPath, [join(ROOT, 'infra/scripts/pack.js'), '--no-build'], { cwd: ROOT, env: { ...process.env, EKM_PACK_OUT: out }, stdio: 'pipe' });
    const files = readdirSync(out);
    tarballs = { sdk: join(out, files.find((f) => f.startsWith('ekm-client-'))!), cli: join(out, files.find((f) => f.startsWith('ekm-cli-'))!) };
    project = join(dir, 'consumer');
    execFileSync('mkdir', ['-p', project]);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
    const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', tarballs.sdk, tarballs.cli], { cwd: project, encoding: 'utf8', timeout: scaled(240_000) });
    if (install.status !== 0) throw new Error(`npm install of the tarballs failed: ${install.stderr}`);
    nats = await startNats();
    keys = await startKeysApp(nats.url, await createTestDatabase('ekm_pack'));
  });

  afterAll(async () => {
    await keys?.svc.close();
    if (nats) await stopServer(nats);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const node = async (script: string): Promise<string> => (await run(process.execPath, ['-e', script], { cwd: project, encoding: 'utf8', env: { PATH: process.env.PATH, EKM_NATS_URL: nats.url } })).stdout;

  it('writes one tarball per package into the output directory', () => {
    expect(tarballs.sdk).toMatch(/ekm-client-\d+\.\d+\.\d+\.tgz$/);
    expect(tarballs.cli).toMatch(/ekm-cli-\d+\.\d+\.\d+\.tgz$/);
  });

  it('the installed SDK carries only client code and talks to a real keys service', async () => {
    const manifest = JSON.parse(await node(`process.stdout.write(JSON.stringify(require('@ekm/client/package.json')))`)) as { dependencies: Record<string, string>; types: string };
    expect(Object.keys(manifest.dependencies).sort()).toEqual(['@nats-io/transport-node', '@opentelemetry/api', 'lru-cache', 'zod']); // the API only: spans and traceparent, no SDK
    expect(manifest.types).toMatch(/\.d\.ts$/);
    const out = await node(`
      const { Ekm } = require('@ekm/client');
      (async () => {
        const ekm = await Ekm.connect({ servers: process.env.EKM_NATS_URL });
        const key = await ekm.keys.createKey({ tenant: 't-pack' });
        const dk = await ekm.crypto.generateDataKey({ keyId: key.keyId, encryptionContext: { collection: 'docs' } });
        const back = await ekm.crypto.decrypt({ ciphertextBlob: dk.ciphertextBlob, encryptionContext: { collection: 'docs' } });
        const facade = ['keys', 'crypto', 'policy', 'rotation', 'audit'].filter((c) => typeof ekm[c] === 'object');
        await ekm.close();
        process.stdout.write(JSON.stringify({ keyId: key.keyId, same: back.plaintext.equals(dk.plaintext), facade }));
      })().catch((e) => { console.error(e); process.exit(1); });`);
    const r = JSON.parse(out) as { keyId: string; same: boolean; facade: string[] };
    expect(r.keyId).toMatch(/[0-9a-f-]{36}/);
    expect(r.same).toBe(true);
    expect(r.facade).toEqual(['keys', 'crypto', 'policy', 'rotation', 'audit']);
  });

  it('the SDK types compile in a strict TypeScript consumer (no @ekm/* alias left)', () => {
    writeFileSync(join(project, 'consumer.ts'), [
      `import { Ekm, EkmError, type GenerateDataKeyInput } from '@ekm/client';`,
      `export async function main(ekm: Ekm): Promise<number> {`,
      `  const input: GenerateDataKeyInput = { keyId: 'alias/x', encryptionContext: { collection: 'docs' } };`,
      `  const dk = await ekm.crypto.generateDataKey(input);`,
      `  const status = await ekm.rotation.status();`,
      `  const e = new EkmError({ code: 'EKM_INTERNAL', message: 'x' });`,
      `  return dk.plaintext.length + status.schedule.trackedKeys + (e.retriable ? 1 : 0);`,
      `}`,
    ].join('\n'));
    const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '--noEmit', '--strict', '--module', 'node16', '--moduleResolution', 'node16', '--target', 'es2022',
      '--typeRoots', join(ROOT, 'node_modules/@types'), '--types', 'node', 'consumer.ts'], { cwd: project, encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  });

  it('the installed CLI is `ekm`: --help, and a real call on the bus', async () => {
    const bin = join(project, 'node_modules', '.bin', 'ekm');
    const help = spawnSync(bin, ['--help'], { cwd: project, encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: ekm');
    const list = await run(bin, ['--nats', nats.url, '--json', 'key', 'list', '--tenant', 't-pack'], { cwd: project, encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect(list.stderr).toBe('');
    expect((JSON.parse(list.stdout) as { keys: unknown[] }).keys).toHaveLength(1);
  });
});

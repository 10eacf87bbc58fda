/**
 * The CLI as a least-privilege NATS user (docker compose publishes NATS with infra/nats/accounts.conf):
 * EKM_NATS_USER / EKM_NATS_PASSWORD, replies on its own `_INBOX_<user>` prefix, so the request reaches
 * the bus (no service answers here: EKM_UNAVAILABLE) instead of failing on the login or on the inbox.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNats, stopServer, type ServerHandle } from '../support/servers';
import { run } from './stack-scripts.support';

const PASSWORD = `cli-${randomBytes(12).toString('hex')}`;
let nats: ServerHandle;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ekm-cli-nats-'));
  const text = readFileSync(join(__dirname, '../../infra/nats/accounts.conf'), 'utf8')
    .replace(/\$EKM_NATS_([A-Z_]+)_PASSWORD/g, (_m, u: string) => JSON.stringify(u === 'CLI' ? PASSWORD : randomBytes(12).toString('hex')));
  writeFileSync(join(dir, 'accounts.conf'), text);
  writeFileSync(join(dir, 'server.conf'), 'include ./accounts.conf\n');
  nats = await startNats({ config: join(dir, 'server.conf') });
}, 30_000);
afterAll(async () => {
  if (nats) await stopServer(nats);
  rmSync(dir, { recursive: true, force: true });
});

const ekm = (env: Record<string, string>) => run('node', ['bin/ekm.js', '--nats', nats.url, '--timeout', '2000', '--json', 'key', 'list', '--tenant', 'acme'], { ...env, EKM_CREDENTIALS: '' }, 60_000);

describe('ekm with EKM_NATS_USER', () => {
  it('logs in as the cli user and gets replies on _INBOX_cli: the request reaches the bus', async () => {
    const r = await ekm({ EKM_NATS_USER: 'cli', EKM_NATS_PASSWORD: PASSWORD });
    expect(r.out).toMatch(/EKM_UNAVAILABLE/);
    expect(r.out).not.toMatch(/authorization|permissions violation/i);
  });

  it('without the user, or with a wrong password, the NATS login is refused', async () => {
    const envs: Array<Record<string, string>> = [{}, { EKM_NATS_USER: 'cli', EKM_NATS_PASSWORD: 'wrong' }];
    for (const env of envs) {
      const r = await ekm(env);
      expect(r.code).not.toBe(0);
      expect(r.out).toMatch(/authori[sz]ation/i);
    }
  });
});

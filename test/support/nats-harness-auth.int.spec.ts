/**
 * The global test nats-server is authenticated like every NATS EKM ships with: an anonymous client is
 * refused, while EKM_TEST_NATS_URL (harness user in the URL) works for a spec's own connect(), for EKM's
 * config loader (the credentials leave the URL) and in a child process (NODE_OPTIONS shim).
 */
import { execFileSync } from 'node:child_process';
import { connect } from '@nats-io/transport-node';
import { loadConfig } from '@ekm/config';

const url = (): string => {
  const u = process.env.EKM_TEST_NATS_URL;
  if (!u) throw new Error('EKM_TEST_NATS_URL is not set: run through jest');
  return u;
};

describe('global test nats-server authentication', () => {
  it('EKM_TEST_NATS_URL embeds the harness user', () => {
    expect(url()).toMatch(/^nats:\/\/harness:[^@]+@127\.0\.0\.1:\d+$/);
  });

  it('refuses an anonymous connection', async () => {
    const u = new URL(url());
    await expect(connect({ servers: `nats://${u.host}`, reconnect: false })).rejects.toThrow(/authorization/i);
  });

  it('lets a spec connect with the URL alone (setupFiles shim)', async () => {
    const nc = await connect({ servers: url(), reconnect: false });
    try {
      nc.subscribe('t.x', { callback: (_e, m) => void m.respond('pong') });
      expect((await nc.request('t.x', 'ping', { timeout: 2000 })).string()).toBe('pong');
    } finally {
      await nc.close();
    }
  });

  it('service config moves the URL credentials out of the server list', () => {
    const c = loadConfig('audit', { EKM_NATS_URL: url(), EKM_AUTH: 'disabled' });
    expect(c.natsUser).toBe('harness');
    expect(c.natsPassword).toBe(new URL(url()).password);
    expect(c.natsServers.join(',')).not.toContain('@');
  });

  it('a child process started by a spec connects with the URL too (NODE_OPTIONS)', () => {
    const out = execFileSync(process.execPath, ['-e', `require('@nats-io/transport-node').connect({ servers: process.env.U, reconnect: false }).then(async (nc) => { console.log('connected'); await nc.close(); }, (e) => { console.log(e.message); process.exit(1); })`], {
      env: { ...process.env, U: url() }, cwd: `${__dirname}/../..`, encoding: 'utf8',
    });
    expect(out.trim()).toBe('connected');
  });
});

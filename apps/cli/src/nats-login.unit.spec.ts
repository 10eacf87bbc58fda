import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliNatsLogin } from './nats-login';

describe('cliNatsLogin', () => {
  const root = mkdtempSync(join(tmpdir(), 'ekm-cli-login-'));
  mkdirSync(join(root, '.ekm'));
  writeFileSync(join(root, '.ekm', 'stack.json'), JSON.stringify({
    natsUrl: 'nats://127.0.0.1:54222', natsCredentials: '/s/cli.json', natsSiemCredentials: '/s/siem.json', natsTlsCa: '/s/ca.pem', serviceKey: 'K'.repeat(43),
  }));
  const sub = join(root, 'a', 'b');
  mkdirSync(sub, { recursive: true });

  it('takes identity, CA and pin from the nearest stack.json when talking to its NATS', () => {
    expect(cliNatsLogin({}, sub, 'nats://127.0.0.1:54222')).toEqual({ natsCredentials: '/s/cli.json', tls: { caFile: '/s/ca.pem' }, serviceKey: 'K'.repeat(43) });
    expect(cliNatsLogin({}, sub, 'nats://127.0.0.1:54222', 'siem').natsCredentials).toBe('/s/siem.json');
  });

  it('never lends the stack identity to another NATS; the environment wins', () => {
    expect(cliNatsLogin({}, sub, 'nats://10.0.0.9:4222')).toEqual({});
    expect(cliNatsLogin({ EKM_NATS_CREDENTIALS: '/e/c.json', EKM_NATS_TLS_CA: '/e/ca.pem', EKM_SERVICE_KEY: 'E'.repeat(43) }, sub, 'nats://127.0.0.1:54222'))
      .toEqual({ natsCredentials: '/e/c.json', tls: { caFile: '/e/ca.pem' }, serviceKey: 'E'.repeat(43) });
  });
});

/**
 * infra/nats/nats-accounts.js is the one source of EKM's NATS identities: the committed accounts.conf
 * (compose) is its output, docker compose gives every password it names, and the grants keep the rules
 * of docs/auth.md §7 (no anonymous access, no CVE-2023-47090 shape, confined clients, audit alone on
 * audit subjects, only services respond).
 */
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';

const gen = require('../../infra/nats/nats-accounts.js') as {
  SERVICES: string[]; CLIENTS: string[]; READERS: string[]; IDENTITIES: string[];
  permissionsOf(id: string): { publish: string[]; subscribe: string[]; allowResponses: boolean };
  renderCompose(): string;
  renderLocal(dir: string, opts?: object): Record<string, { user: string; nkeySeed: string; nkey: string; inboxPrefix: string }>;
};
const ROOT = join(__dirname, '..', '..');

describe('NATS identities (infra/nats/nats-accounts.js)', () => {
  it('infra/nats/accounts.conf is the generator output (run: node infra/nats/nats-accounts.js compose > infra/nats/accounts.conf)', () => {
    expect(readFileSync(join(ROOT, 'infra/nats/accounts.conf'), 'utf8')).toBe(gen.renderCompose());
  });

  it('docker compose passes every password the accounts file reads', () => {
    const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: { nats: { environment: Record<string, string> } } };
    for (const id of gen.IDENTITIES) expect(Object.keys(compose.services.nats.environment)).toContain(`EKM_NATS_${id.toUpperCase()}_PASSWORD`);
  });

  it('no authorization block and no no_auth_user (anonymous refused; not the CVE-2023-47090 shape)', () => {
    const text = gen.renderCompose().replace(/^#.*$/gm, '');
    expect(text).not.toMatch(/authorization\s*[{:]/);
    expect(text).not.toMatch(/no_auth_user/);
  });

  it('clients publish only requests and read only their own inbox; they never respond', () => {
    for (const id of gen.CLIENTS) {
      expect(gen.permissionsOf(id)).toEqual({ publish: ['ekm.v1.*.*'], subscribe: [`_INBOX_${id}.>`], allowResponses: false });
    }
  });

  it('only services respond, each serves only its own subjects, and only audit publishes audit subjects', () => {
    for (const id of gen.IDENTITIES) {
      const p = gen.permissionsOf(id);
      expect(p.allowResponses).toBe(gen.SERVICES.includes(id));
      const serves = p.subscribe.filter((s) => s.startsWith('ekm.v1.'));
      expect(serves).toEqual(gen.SERVICES.includes(id) ? [`ekm.v1.${id}.>`] : []);
      expect(p.publish.some((s) => s.startsWith('ekm.audit.'))).toBe(id === 'audit');
      expect(p.publish.filter((s) => s.startsWith('ekm.events.'))).toEqual(gen.SERVICES.includes(id) ? [`ekm.events.${id}.>`] : []);
      expect(p.subscribe.filter((s) => s.startsWith('_INBOX'))).toEqual([`_INBOX_${id}.>`]);
      expect(p.publish).not.toContain('>');
      expect(p.subscribe).not.toContain('>');
    }
  });

  it('up\'s local config: one 0600 credentials file per identity in a 0700 directory, kept on a second run', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'ekm-nats-gen-')), 'nats');
    const first = gen.renderLocal(dir, { port: 4333 });
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const id of gen.IDENTITIES) {
      expect(statSync(join(dir, `${id}.json`)).mode & 0o777).toBe(0o600);
      expect(first[id]).toEqual({ user: id, nkeySeed: expect.stringMatching(/^SU[A-Z2-7]{56}$/), nkey: expect.stringMatching(/^U[A-Z2-7]{55}$/), inboxPrefix: `_INBOX_${id}` });
      expect(JSON.parse(readFileSync(join(dir, `${id}.json`), 'utf8'))).toEqual({ user: id, nkeySeed: first[id]!.nkeySeed, inboxPrefix: `_INBOX_${id}` });
    }
    expect(statSync(join(dir, 'nats-server.conf')).mode & 0o777).toBe(0o600);
    expect(gen.renderLocal(dir, { port: 4333 })).toEqual(first);
    const conf = readFileSync(join(dir, 'nats-server.conf'), 'utf8');
    expect(conf).toContain('listen: 127.0.0.1:4333');
    // The server config holds public keys only: no seed, no password.
    for (const id of gen.IDENTITIES) {
      expect(conf).toContain(`nkey: ${first[id]!.nkey}`);
      expect(conf).not.toContain(first[id]!.nkeySeed);
    }
    expect(conf).not.toMatch(/password/);
    expect(new Set(gen.IDENTITIES.map((id) => first[id]!.nkeySeed)).size).toBe(gen.IDENTITIES.length);
  });
});

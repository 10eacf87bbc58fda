/**
 * TLS as `npm run up` sets it up: infra/scripts/lib/tls.sh issues a local CA and server certificates
 * (keys 0600, reused on a second run); NATS with the generated config and Postgres with the hba up
 * writes refuse plaintext connections and accept verified TLS (Postgres sslmode=verify-full); EKM's
 * clients and services connect with the CA setting.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { connect } from '@nats-io/transport-node';
import { EkmClient } from '@ekm/client';
import { loadConfig } from '@ekm/config';
import { natsLoginOf } from '../../libs/service-kit/src/bootstrap';
import { ekmNatsConfig, loginAs } from '../support/nats-auth';
import { startNats, startPostgres, stopServer, type ServerHandle } from '../support/servers';

const LIB = join(__dirname, '..', '..', 'infra', 'scripts', 'lib');

/** Runs tls.sh functions in a fresh shell with EKM_HOME=home. */
function tlsSh(home: string, script: string): string {
  return execFileSync('bash', ['-c', `set -euo pipefail; source "${LIB}/common.sh"; EKM_HOME="${home}"; source "${LIB}/tls.sh"; ${script}`], { encoding: 'utf8', env: { ...process.env, EKM_HOME: home } });
}

/** Everything a plaintext client receives from a TLS-only nats-server after sending CONNECT and PING without TLS. */
function plaintextNats(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = tcpConnect(port, '127.0.0.1');
    let got = '';
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (got.includes('INFO') && !got.includes('sent')) {
        got += ' sent';
        s.write('CONNECT {"verbose":false,"user":"x","pass":"y"}\r\nPING\r\n');
      }
    });
    s.on('close', () => resolve(got));
    s.on('error', () => resolve(got));
    setTimeout(() => { s.destroy(); resolve(got); }, 5000).unref();
  });
}

describe('TLS for NATS and Postgres (local CA of npm run up)', () => {
  const home = mkdtempSync(join(tmpdir(), 'ekm-tls-'));
  const tls = join(home, 'tls');
  let nats: ServerHandle | undefined;
  let pg: ServerHandle | undefined;
  let pg2: ServerHandle | undefined;

  beforeAll(() => {
    tlsSh(home, 'ensure_local_ca; ensure_server_cert nats 127.0.0.1 localhost; ensure_server_cert postgres 127.0.0.1 localhost; ensure_server_cert onlyname localhost');
  });

  afterAll(async () => {
    if (nats) await stopServer(nats);
    if (pg) await stopServer(pg, { signal: 'SIGINT' });
    if (pg2) await stopServer(pg2, { signal: 'SIGINT' });
  });

  it('writes the CA and server certificates with private keys 0600, and reuses them on a second run', () => {
    for (const f of ['ca-key.pem', 'nats-key.pem', 'postgres-key.pem']) expect(statSync(join(tls, f)).mode & 0o777).toBe(0o600);
    expect(statSync(tls).mode & 0o777).toBe(0o700);
    const before = readFileSync(join(tls, 'nats.pem'), 'utf8');
    tlsSh(home, 'ensure_local_ca; ensure_server_cert nats 127.0.0.1 localhost');
    expect(readFileSync(join(tls, 'nats.pem'), 'utf8')).toBe(before);
    // A host the certificate does not cover: issued again.
    tlsSh(home, 'ensure_server_cert nats 127.0.0.1 localhost ekm.internal');
    expect(readFileSync(join(tls, 'nats.pem'), 'utf8')).not.toBe(before);
    const san = execFileSync('openssl', ['x509', '-in', join(tls, 'nats.pem'), '-noout', '-ext', 'subjectAltName'], { encoding: 'utf8' });
    expect(san).toMatch(/IP Address:127\.0\.0\.1/);
    expect(san).toMatch(/DNS:ekm\.internal/);
    execFileSync('openssl', ['verify', '-CAfile', join(tls, 'ca.pem'), join(tls, 'nats.pem')]);
  });

  it('NATS: a plaintext connection is refused; SDK and services connect with the CA', async () => {
    const ids = ekmNatsConfig({ tlsCert: join(tls, 'nats.pem'), tlsKey: join(tls, 'nats-key.pem') });
    nats = await startNats({ config: ids.config });
    const url = `nats://127.0.0.1:${nats.port}`;
    // The server demands a TLS handshake first; plaintext CONNECT + PING gets no +OK/PONG, only a close.
    const plain = await plaintextNats(nats.port);
    expect(plain).toContain('"tls_required":true');
    expect(plain).not.toMatch(/PONG|\+OK/);
    // Without the CA, the server certificate does not verify.
    await expect(connect({ servers: url, ...loginAs(ids.identities.cli!), reconnect: false })).rejects.toThrow(/certificate/i);
    const client = await EkmClient.connect({ servers: url, natsCredentials: ids.credentialsFile('cli'), tls: { caFile: join(tls, 'ca.pem') }, maxAttempts: 1 });
    await client.close();
    const config = loadConfig('keys', { EKM_NATS_URL: url, EKM_NATS_CREDENTIALS: ids.credentialsFile('keys'), EKM_NATS_TLS_CA: join(tls, 'ca.pem'), EKM_AUTH: 'disabled' });
    const nc = await connect({ servers: [...config.natsServers], reconnect: false, ...natsLoginOf(config) });
    await nc.flush();
    await nc.close();
  }, 60_000);

  it('Postgres: plaintext refused, sslmode=verify-full against the local CA accepted, a wrong host name refused', async () => {
    pg = await startPostgres({ tls: { cert: join(tls, 'postgres.pem'), key: join(tls, 'postgres-key.pem') } });
    const base = `postgres://postgres@127.0.0.1:${pg.port}/postgres`;
    const tryUrl = async (url: string): Promise<string> => {
      const c = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
      try {
        await c.connect();
        const r = await c.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
        return r.rows[0]?.ssl ? 'tls' : 'plain';
      } catch (e) {
        return `refused: ${(e as Error).message}`;
      } finally {
        await c.end().catch(() => undefined);
      }
    };
    expect(await tryUrl(`${base}?sslmode=disable`)).toMatch(/refused: .*(no encryption|pg_hba)/i);
    expect(await tryUrl(`${base}?sslmode=verify-full&sslrootcert=${join(tls, 'ca.pem')}`)).toBe('tls');
    // verify-full checks the name too, not only the chain: a server whose certificate names only
    // "localhost", reached as 127.0.0.1, is refused under verify-full (and accepted by verify-ca).
    pg2 = await startPostgres({ tls: { cert: join(tls, 'onlyname.pem'), key: join(tls, 'onlyname-key.pem') } });
    const ca = join(tls, 'ca.pem');
    expect(await tryUrl(`postgres://postgres@127.0.0.1:${pg2.port}/postgres?sslmode=verify-full&sslrootcert=${ca}`)).toMatch(/refused: .*(altnames|hostname|does not match)/i);
    expect(await tryUrl(`postgres://postgres@127.0.0.1:${pg2.port}/postgres?uselibpqcompat=true&sslmode=verify-ca&sslrootcert=${ca}`)).toBe('tls');
  }, 60_000);
});

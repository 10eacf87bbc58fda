/**
 * Re-wrap tracking end to end (keys and rotation in-process, private nats-server and database):
 * data keys for 3 assets, rotate, re-wrap 2 with ReEncrypt → rewrap-status shows 2/3 and names the
 * asset left on version 1; version 1 cannot be disabled or destroyed without force (EKM_VERSION_IN_USE,
 * nothing appended); with force it can (recorded as ...Forced); a re-wrap notice reached
 * `ekm.rewrap.v1.<tenant>`; without a rotation service the keys service refuses (fail closed).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { Client } from 'pg';
import { loadConfig } from '@ekm/config';
import { subject, type Reply, type ServiceName } from '@ekm/contracts';
import { startServiceApp, type ServiceApp } from '@ekm/service-kit';
import { createLogger } from '@ekm/telemetry';
import { RotationModule } from '../../apps/rotation/src/rotation.module';
import { replySchemaOf } from '../../infra/bus-api/bus-api.replies';
import { createTestDatabase, urlFor } from '../support/pg';
import { startNats, stopServer, type ServerHandle } from '../support/servers';
import { startKeysApp, type KeysApp } from './keys-crypto.support';
import { waitFor } from './rotation.support';
import { scaled } from '../support/wait-for';
import { USAGE_RECORDS } from '../support/usage-records';

jest.setTimeout(scaled(60_000)); // scaled with the load (test/support/wait-for.ts)

describe('re-wrap tracking (e2e)', () => {
  let nats: ServerHandle;
  let nc: NatsConnection;
  let db: { name: string; url: string };
  let keys: KeysApp;
  let rotation: ServiceApp | undefined;
  let pg: Client;
  const tenant = `t${randomUUID().slice(0, 8)}`;

  const raw = async <T>(service: ServiceName, op: string, body: unknown): Promise<Reply<T>> => {
    const h = headers();
    h.set('Ekm-Request-Id', randomUUID());
    return (await nc.request(`ekm.v1.${service}.${op}`, JSON.stringify(body), { timeout: 10_000, headers: h })).json<Reply<T>>();
  };
  const ok = async <T>(service: ServiceName, op: string, body: unknown): Promise<T> => {
    const r = await raw<T>(service, op, body);
    if (!r.ok) throw new Error(`${op}: ${r.error.code} ${r.error.message}`);
    // Every real reply must match its contract exactly (the schemas are strict: an extra or missing field fails).
    const contract = replySchemaOf(service, op);
    if (contract === undefined) throw new Error(`${service}.${op} has no reply schema`);
    contract.parse(r.data);
    return r.data;
  };
  const keyEvents = async (keyId: string): Promise<number> =>
    Number((await pg.query<{ n: string }>(`SELECT count(*) AS n FROM ekm_keys.events WHERE stream_id = $1`, [`key-${keyId}`])).rows[0]!.n);

  beforeAll(async () => {
    [nats, db] = await Promise.all([startNats(), createTestDatabase('ekm_rewrap')]);
    nc = await connect({ servers: nats.url });
    keys = await startKeysApp(nats.url, db);
    pg = new Client({ connectionString: db.url });
    await pg.connect();
  });
  afterAll(async () => {
    await rotation?.close();
    await keys?.svc.close();
    await pg?.end();
    await nc?.close();
    if (nats) await stopServer(nats);
  });

  it('fails closed: without a rotation service, disabling a version is refused (EKM_UNAVAILABLE) and nothing is appended', async () => {
    const { keyId } = await ok<{ keyId: string }>('keys', 'create-key', { tenant });
    await ok('keys', 'rotate-key', { keyId });
    const before = await keyEvents(keyId);
    const r = await raw('keys', 'disable-key-version', { keyId, version: 1 });
    expect(r).toMatchObject({ ok: false, error: { code: 'EKM_UNAVAILABLE' } });
    expect(await keyEvents(keyId)).toBe(before);
  });

  it('a scheduler slot sent twice rotates once (same Ekm-Request-Id); a stale expectedVersion is refused with nothing appended', async () => {
    const { keyId } = await ok<{ keyId: string }>('keys', 'create-key', { tenant });
    const v = await keyEvents(keyId);
    const send = async (requestId: string, expectedVersion: number) => {
      const h = headers();
      h.set('Ekm-Request-Id', requestId);
      const body = JSON.stringify({ keyId, reason: 'SCHEDULED', expectedVersion });
      return (await nc.request(subject('keys', 'rotate-key'), body, { timeout: 10_000, headers: h })).json<Reply<{ primaryVersion: number }>>();
    };
    const slot = `rotation:ROTATE:${keyId}:-:1767225600000`;
    const [a, b] = await Promise.all([send(slot, v), send(slot, v)]);
    expect([a, b]).toEqual([expect.objectContaining({ ok: true }), expect.objectContaining({ ok: true })]);
    expect(await send(slot, v)).toMatchObject({ ok: true, data: { primaryVersion: 2 } }); // a late resend, stale version: still the same answer
    expect(await keyEvents(keyId)).toBe(v + 2); // one KeyVersionAdded + one KeyRotated
    const stale = await send(randomUUID(), v);
    expect(stale).toMatchObject({ ok: false, error: { code: 'EKM_CONFLICT' } });
    expect(await keyEvents(keyId)).toBe(v + 2);
  });

  it('3 assets, rotate, re-wrap 2: progress 2/3, version 1 guarded unless forced, notice published', async () => {
    const config = loadConfig('rotation', {
      EKM_NATS_URL: nats.url, EKM_DATABASE_ADMIN_URL: db.url, EKM_DATABASE_URL: urlFor(db.name, 'ekm_rotation'), EKM_HTTP_PORT: '0', EKM_AUTH: 'disabled', EKM_ROTATION_TICK_MS: '200',
    });
    rotation = await startServiceApp({ config, module: RotationModule, logger: createLogger('rotation', { level: 'silent' }) });
    const { keyId } = await ok<{ keyId: string }>('keys', 'create-key', { tenant });
    const ctx = (asset: string) => ({ tenant, collection: 'docs', asset });
    const blobs: string[] = [];
    for (const asset of ['a1', 'a2', 'a3']) {
      blobs.push((await ok<{ ciphertextBlob: string; keyVersion: number }>('keys', 'generate-data-key', { keyId, encryptionContext: ctx(asset) })).ciphertextBlob);
    }
    await waitFor('3 assets tracked', async () => (await raw<{ totalAssets: number }>('rotation', 'rewrap-status', { keyId })).ok
      && (await ok<{ totalAssets: number }>('rotation', 'rewrap-status', { keyId })).totalAssets === 3);
    const rotated = await ok<{ primaryVersion: number }>('keys', 'rotate-key', { keyId });
    expect(rotated.primaryVersion).toBe(2);
    for (const [i, asset] of ['a1', 'a2'].entries()) {
      const r = await ok<{ keyVersion: number }>('keys', 're-encrypt', {
        ciphertextBlob: blobs[i], sourceEncryptionContext: ctx(asset), destinationKeyId: keyId, destinationEncryptionContext: ctx(asset),
      });
      expect(r.keyVersion).toBe(2);
    }
    const progress = await waitFor('2 of 3 re-wrapped', async () => {
      const p = await ok<{ onPrimary: number; totalAssets: number; rewrappedShare: number; primaryVersion: number }>('rotation', 'rewrap-status', { keyId });
      return p.onPrimary === 2 && p.primaryVersion === 2 ? p : null;
    });
    expect(progress).toMatchObject({ totalAssets: 3, onPrimary: 2, byVersion: [{ version: 2, assets: 2 }, { version: 1, assets: 1 }] });
    expect(progress.rewrappedShare).toBeCloseTo(2 / 3);
    const retirement = await ok<{ allowed: boolean; liveAssets: number }>('rotation', 'check-version-retirement', { keyId, version: 1 });
    expect(retirement).toMatchObject({ keyId, version: 1, allowed: false, liveAssets: 1 });
    const under1 = await ok<{ version: { total: number; assets: { asset: string }[] } }>('rotation', 'rewrap-status', { keyId, version: 1 });
    expect(under1.version.total).toBe(1);
    expect(under1.version.assets.map((a) => a.asset)).toEqual(['a3']);

    // The old version is guarded: disable and destroy are refused, nothing appended.
    const before = await keyEvents(keyId);
    const refused = await raw('keys', 'disable-key-version', { keyId, version: 1 });
    expect(refused).toMatchObject({ ok: false, error: { code: 'EKM_VERSION_IN_USE' } });
    if (!refused.ok) expect(refused.error.message).toMatch(/version 1 of key .* still protects 1 data asset\(s\) \(e\.g\. .*\/docs\/a3\)/);
    expect(await raw('keys', 'destroy-key-version', { keyId, version: 1 })).toMatchObject({ ok: false, error: { code: 'EKM_VERSION_IN_USE' } });
    expect(await keyEvents(keyId)).toBe(before);
    // The status report shows the key's re-wrap progress.
    const status = await ok<{ schedule: { rewrap: { keyId: string; onPrimary: number; totalAssets: number }[] } }>('rotation', 'status', {});
    expect(status.schedule.rewrap).toContainEqual(expect.objectContaining({ keyId, onPrimary: 2, totalAssets: 3 }));

    // The CLI shows the same, as JSON and as tables.
    // Async: the rotation service answering it runs in this process.
    const cli = (...args: string[]) => new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      // cwd outside the repo: a local `.ekm/admin.credentials` (npm run up) would make the CLI log in.
      const p = spawn(process.execPath, [join(__dirname, '../../bin/ekm.js'), '--nats', nats.url, ...args], { cwd: tmpdir(), env: { PATH: process.env.PATH ?? '' } });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
      p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      p.on('close', (status) => resolve({ status, stdout, stderr }));
    });
    const json = await cli('--json', 'rotation', 'status');
    expect(json.stderr).toBe('');
    expect(json.status).toBe(0);
    expect((JSON.parse(json.stdout) as typeof status).schedule.rewrap).toContainEqual(expect.objectContaining({ keyId, onPrimary: 2, totalAssets: 3 }));
    const table = await cli('rotation', 'status');
    expect(table.stdout).toContain('re-wrap progress');
    expect(table.stdout).toContain('2/3 (67%)');

    // Forced: allowed, and recorded as its own operation in the usage records.
    await ok('keys', 'disable-key-version', { keyId, version: 1, force: true });
    await ok('keys', 'destroy-key-version', { keyId, version: 1, force: true });
    const versions = await ok<{ versions: { version: number; status: string }[] }>('keys', 'list-key-versions', { keyId });
    expect(versions.versions.find((v) => v.version === 1)?.status).toBe('Destroyed');
    const forced = await pg.query<{ op: string }>(`SELECT data->>'operation' AS op FROM ${USAGE_RECORDS} WHERE data->>'keyId' = $1 AND data->>'operation' LIKE '%Forced'`, [keyId]);
    expect(forced.rows.map((r) => r.op).sort()).toEqual(['DestroyKeyVersionForced', 'DisableKeyVersionForced']);

    // One re-wrap notice for the tenant, for this rotation.
    const jsm = await jetstreamManager(nc);
    const notice = await waitFor('re-wrap notice', async () => {
      try {
        return await jsm.streams.getMessage('EKM_REWRAP_NOTICES', { last_by_subj: `ekm.rewrap.v1.${tenant}` });
      } catch {
        return null;
      }
    });
    expect(notice!.json()).toMatchObject({ keyId, tenant, fromVersion: 1, toVersion: 2, reason: 'ON_DEMAND' });
  });
});

/**
 * Keys data plane over the bus against the real keys service (control plane included): round trips of
 * every operation, each bad input's typed error with nothing appended but its usage record, and
 * fail-closed usage records (no plaintext when the record cannot be committed).
 */
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { DEADLINE_HEADER, subject, type Reply } from '@ekm/contracts';
import { Client } from 'pg';
import { ACCESS_REFUSALS, type AccessRefusals } from '@ekm/service-kit';
import { createTestDatabase } from '../support/pg';
import { startNats, stopServer, type ServerHandle } from '../support/servers';
import { b64, call, createKey, errorCode, okData, startKeysApp, type KeysApp } from './keys-crypto.support';

type DataKey = { keyId: string; keyVersion: number; plaintext: string; ciphertextBlob: string };

describe('keys data plane (e2e)', () => {
  let nats: ServerHandle;
  let nc: NatsConnection;
  let db: { name: string; url: string };
  let app: KeysApp;
  let pg: Client;
  let key: string;

  beforeAll(async () => {
    [nats, db] = await Promise.all([startNats(), createTestDatabase('ekm_kc')]);
    nc = await connect({ servers: nats.url });
    app = await startKeysApp(nats.url, db);
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    key = await createKey(nc, { requiredContext: { collection: 'docs' } });
  });
  afterAll(async () => {
    if (process.env.EKM_E2E_DEBUG) for (const l of app?.logs ?? []) if (l.includes('"level":"error"')) process.stderr.write(l);
    await app?.svc.close();
    await pg?.end();
    await nc?.close();
    if (nats) await stopServer(nats);
  });

  const ctx = { collection: 'docs', tenant: 't-e2e' };
  /** [non-usage events, usage events] */
  const counts = async (): Promise<[number, number]> => {
    const r = await pg.query<{ k: string; u: string }>(`SELECT count(*) FILTER (WHERE stream_id NOT LIKE 'usage-%' AND stream_id NOT LIKE 'refusals-%' AND stream_id NOT LIKE 'auth-failures-%') AS k, coalesce(sum(CASE WHEN event_type = 'KeyUsageBatchRecorded' THEN jsonb_array_length(data->'records') ELSE 1 END) FILTER (WHERE stream_id LIKE 'usage-%'), 0) AS u FROM ekm_keys.events`);
    return [Number(r.rows[0]!.k), Number(r.rows[0]!.u)];
  };
  // Usage records come one group commit per event (KeyUsageBatchRecorded { records }): the last record of the last one.
  const lastUsage = async () => (await pg.query<{ data: Record<string, unknown> }>(`SELECT CASE WHEN event_type = 'KeyUsageBatchRecorded' THEN data->'records'->(jsonb_array_length(data->'records') - 1) ELSE data END AS data FROM ekm_keys.events WHERE stream_id LIKE 'usage-%' ORDER BY global_position DESC LIMIT 1`)).rows[0]!.data;

  it('generate-data-key → decrypt round trip, by id and alias, AES_256 and numberOfBytes', async () => {
    await okData(nc, 'create-alias', { keyId: key, alias: 'alias/e2e-docs' });
    const dk = await okData<DataKey>(nc, 'generate-data-key', { keyId: 'alias/e2e-docs', encryptionContext: ctx });
    expect(dk).toMatchObject({ keyId: key, keyVersion: 1 });
    expect(Buffer.from(dk.plaintext, 'base64')).toHaveLength(32);
    const back = await okData<DataKey>(nc, 'decrypt', { ciphertextBlob: dk.ciphertextBlob, encryptionContext: ctx });
    expect(back).toEqual({ keyId: key, keyVersion: 1, plaintext: dk.plaintext });
    const small = await okData<DataKey>(nc, 'generate-data-key', { keyId: key, numberOfBytes: 7, encryptionContext: ctx });
    expect(Buffer.from(small.plaintext, 'base64')).toHaveLength(7);
    const usage = await lastUsage();
    expect(usage).toMatchObject({ operation: 'GenerateDataKey', keyId: key, keyVersion: 1, outcome: 'ALLOWED', encryptionContext: ctx });
    expect(JSON.stringify(usage)).not.toContain(small.plaintext);
  });

  it('generate-data-key-without-plaintext returns no plaintext; the blob decrypts', async () => {
    const dk = await okData<Partial<DataKey>>(nc, 'generate-data-key-without-plaintext', { keyId: key, encryptionContext: ctx });
    expect(dk.plaintext).toBeUndefined();
    const back = await okData<DataKey>(nc, 'decrypt', { ciphertextBlob: dk.ciphertextBlob, keyId: key, encryptionContext: ctx });
    expect(Buffer.from(back.plaintext, 'base64')).toHaveLength(32);
  });

  it('encrypt → decrypt, and re-encrypt to the new primary and to another key (with its own context)', async () => {
    const enc = await okData<DataKey>(nc, 'encrypt', { keyId: key, plaintext: b64('hello vectors'), encryptionContext: ctx });
    await okData(nc, 'rotate-key', { keyId: key });
    const re = await okData<{ keyId: string; keyVersion: number; sourceKeyVersion: number; ciphertextBlob: string }>(nc, 're-encrypt', { ciphertextBlob: enc.ciphertextBlob, sourceEncryptionContext: ctx, destinationEncryptionContext: ctx });
    expect(re).toMatchObject({ keyId: key, keyVersion: 2, sourceKeyVersion: 1 });
    expect(Buffer.from((await okData<DataKey>(nc, 'decrypt', { ciphertextBlob: re.ciphertextBlob, encryptionContext: ctx })).plaintext, 'base64').toString()).toBe('hello vectors');
    // The old blob still decrypts with the (decrypt-only) version 1.
    expect((await okData<DataKey>(nc, 'decrypt', { ciphertextBlob: enc.ciphertextBlob, encryptionContext: ctx })).keyVersion).toBe(1);
    const other = await createKey(nc);
    const moved = await okData<{ keyId: string; ciphertextBlob: string }>(nc, 're-encrypt', {
      ciphertextBlob: enc.ciphertextBlob, sourceEncryptionContext: ctx, destinationKeyId: other, destinationEncryptionContext: { asset: 'a1' },
    });
    expect(moved.keyId).toBe(other);
    const out = await okData<DataKey>(nc, 'decrypt', { ciphertextBlob: moved.ciphertextBlob, encryptionContext: { asset: 'a1' } });
    expect(Buffer.from(out.plaintext, 'base64').toString()).toBe('hello vectors');
    expect(await errorCode(nc, 'decrypt', { ciphertextBlob: moved.ciphertextBlob, encryptionContext: ctx })).toBe('EKM_INVALID_CIPHERTEXT');
  });

  it('a request with no time left (Ekm-Timeout-Ms 0) is refused (EKM_DEADLINE_EXCEEDED) with nothing recorded or created; a fine one is served', async () => {
    const send = async (op: 'generate-data-key' | 'create-key', body: unknown, timeoutMs: number): Promise<Reply<unknown>> => {
      const h = headers();
      h.set(DEADLINE_HEADER, String(timeoutMs));
      return (await nc.request(subject('keys', op), JSON.stringify(body), { timeout: 10_000, headers: h })).json<Reply<unknown>>();
    };
    const codeOf = (r: Reply<unknown>): string | undefined => (r.ok ? undefined : r.error.code);
    const before = await counts();
    expect(codeOf(await send('generate-data-key', { keyId: key, encryptionContext: ctx }, 0))).toBe('EKM_DEADLINE_EXCEEDED');
    expect(codeOf(await send('create-key', { description: 'late' }, 0))).toBe('EKM_DEADLINE_EXCEEDED');
    expect(await counts()).toEqual(before);
    const served = await send('generate-data-key', { keyId: key, encryptionContext: ctx }, 30_000);
    expect(served.ok).toBe(true);
    expect(await counts()).toEqual([before[0], before[1] + 1]);
  });

  it('batch forms: per-item context, per-item results and errors, one usage record per item', async () => {
    const [, u0] = await counts();
    const gen = await okData<{ items: Array<DataKey & { ok: boolean }> }>(nc, 'generate-data-key-batch', {
      items: [{ keyId: key, encryptionContext: ctx }, { keyId: key, encryptionContext: { collection: 'other' } }, { keyId: key, numberOfBytes: 16, encryptionContext: ctx }],
    });
    expect(gen.items.map((i) => i.ok)).toEqual([true, false, true]);
    expect((gen.items[1] as unknown as { error: { code: string } }).error.code).toBe('EKM_CONTEXT_MISMATCH');
    const [, u1] = await counts();
    expect(u1 - u0).toBe(3);
    const dec = await okData<{ items: Array<{ ok: boolean; plaintext?: string; error?: { code: string } }> }>(nc, 'decrypt-batch', {
      items: [{ ciphertextBlob: gen.items[0]!.ciphertextBlob, encryptionContext: ctx }, { ciphertextBlob: gen.items[2]!.ciphertextBlob, encryptionContext: { collection: 'docs' } }],
    });
    expect(dec.items[0]).toMatchObject({ ok: true, plaintext: gen.items[0]!.plaintext });
    expect(dec.items[1]).toMatchObject({ ok: false, error: { code: 'EKM_INVALID_CIPHERTEXT' } });
    const re = await okData<{ items: Array<{ ok: boolean }> }>(nc, 're-encrypt-batch', { items: [{ ciphertextBlob: gen.items[2]!.ciphertextBlob, sourceEncryptionContext: ctx, destinationEncryptionContext: ctx }] });
    expect(re.items[0]).toMatchObject({ ok: true, keyId: key });
    expect(await errorCode(nc, 'decrypt-batch', { items: Array.from({ length: 101 }, () => ({ ciphertextBlob: 'AAAA' })) })).toBe('EKM_VALIDATION');
  });

  it('generate-mac / verify-mac with an HMAC_256 key; MAC on an AES key is EKM_UNSUPPORTED', async () => {
    const mk = await createKey(nc, { spec: 'HMAC_256' });
    const mac = await okData<{ mac: string; keyVersion: number }>(nc, 'generate-mac', { keyId: mk, message: b64('msg') });
    expect(Buffer.from(mac.mac, 'base64')).toHaveLength(32);
    expect(await okData(nc, 'verify-mac', { keyId: mk, message: b64('msg'), mac: mac.mac })).toMatchObject({ macValid: true, keyVersion: 1 });
    expect(await okData(nc, 'verify-mac', { keyId: mk, message: b64('msh'), mac: mac.mac })).toMatchObject({ macValid: false });
    expect(await errorCode(nc, 'generate-mac', { keyId: key, message: b64('m'), encryptionContext: ctx })).toBe('EKM_UNSUPPORTED');
    expect(await errorCode(nc, 'encrypt', { keyId: mk, plaintext: b64('x') })).toBe('EKM_UNSUPPORTED');
  });

  it('each bad input gets its typed error and appends nothing but its usage record', async () => {
    const enc = await okData<DataKey>(nc, 'encrypt', { keyId: key, plaintext: b64('secret'), encryptionContext: ctx });
    const blob = Buffer.from(enc.ciphertextBlob, 'base64');
    const flipped = Buffer.from(blob);
    flipped[blob.length - 20]! ^= 0x01;
    const other = await createKey(nc);
    const cases: Array<[string, Parameters<typeof call>[1], unknown, string, number]> = [
      ['wrong context', 'decrypt', { ciphertextBlob: enc.ciphertextBlob, encryptionContext: { ...ctx, tenant: 'x' } }, 'EKM_INVALID_CIPHERTEXT', 1],
      ['missing required context', 'encrypt', { keyId: key, plaintext: b64('x') }, 'EKM_CONTEXT_MISMATCH', 1],
      ['different required context', 'generate-data-key', { keyId: key, encryptionContext: { collection: 'x' } }, 'EKM_CONTEXT_MISMATCH', 1],
      ['bit flip', 'decrypt', { ciphertextBlob: flipped.toString('base64'), encryptionContext: ctx }, 'EKM_INVALID_CIPHERTEXT', 1],
      ['truncated', 'decrypt', { ciphertextBlob: blob.subarray(0, blob.length - 1).toString('base64'), encryptionContext: ctx }, 'EKM_INVALID_CIPHERTEXT', 1],
      ['not base64', 'decrypt', { ciphertextBlob: '!!!!', encryptionContext: ctx }, 'EKM_INVALID_CIPHERTEXT', 1],
      ['blob of another key', 'decrypt', { ciphertextBlob: enc.ciphertextBlob, keyId: other, encryptionContext: ctx }, 'EKM_INVALID_CIPHERTEXT', 1],
      ['unknown key', 'encrypt', { keyId: 'alias/nope', plaintext: b64('x') }, 'EKM_KEY_NOT_FOUND', 1],
      ['oversized plaintext', 'encrypt', { keyId: key, plaintext: b64(Buffer.alloc(4097)), encryptionContext: ctx }, 'EKM_VALIDATION', 0],
      ['bad size', 'generate-data-key', { keyId: key, numberOfBytes: 1025 }, 'EKM_VALIDATION', 0],
    ];
    for (const [name, op, body, code, usage] of cases) {
      const [k0, u0] = await counts();
      expect([name, await errorCode(nc, op, body)]).toEqual([name, code]);
      const [k1, u1] = await counts();
      expect([name, k1 - k0, u1 - u0]).toEqual([name, 0, usage]);
      if (usage === 1) expect(await lastUsage()).toMatchObject({ outcome: 'FAILED', errorCode: code });
    }
    // The requests that failed validation left an AccessDenied record each (principal, operation, code).
    await app.svc.app.get<symbol, AccessRefusals>(ACCESS_REFUSALS, { strict: false }).flush();
    const { rows } = await pg.query<{ op: string }>(`SELECT data->>'operation' AS op FROM ekm_keys.events WHERE event_type = 'AccessDenied' AND data->>'errorCode' = 'EKM_VALIDATION' ORDER BY global_position`);
    expect(rows.map((r) => r.op)).toEqual(expect.arrayContaining(['Encrypt', 'GenerateDataKey']));
  });

  it('disabled, revoked, pending-deletion and destroyed keys refuse with EKM_KEY_NOT_ACTIVE', async () => {
    const mk = async () => {
      const id = await createKey(nc);
      const enc = await okData<DataKey>(nc, 'encrypt', { keyId: id, plaintext: b64('p') });
      return { id, blob: enc.ciphertextBlob };
    };
    const disabled = await mk();
    await okData(nc, 'disable-key', { keyId: disabled.id });
    const revoked = await mk();
    await okData(nc, 'revoke-key', { keyId: revoked.id, reason: 'leaked' });
    const pending = await mk();
    await okData(nc, 'schedule-key-deletion', { keyId: pending.id, pendingWindowDays: 0 });
    const destroyed = await mk();
    await okData(nc, 'schedule-key-deletion', { keyId: destroyed.id, pendingWindowDays: 0 });
    await okData(nc, 'destroy-key', { keyId: destroyed.id });
    for (const k of [disabled, revoked, pending, destroyed]) {
      const [k0] = await counts();
      expect(await errorCode(nc, 'encrypt', { keyId: k.id, plaintext: b64('p') })).toBe('EKM_KEY_NOT_ACTIVE');
      expect(await errorCode(nc, 'decrypt', { ciphertextBlob: k.blob })).toBe('EKM_KEY_NOT_ACTIVE');
      expect(await errorCode(nc, 'generate-data-key', { keyId: k.id })).toBe('EKM_KEY_NOT_ACTIVE');
      expect((await counts())[0]).toBe(k0);
    }
  });

  it('fails closed: when the usage record cannot be committed, EKM_AUDIT_UNAVAILABLE and no key or plaintext', async () => {
    const enc = await okData<DataKey>(nc, 'encrypt', { keyId: key, plaintext: b64('closed'), encryptionContext: ctx });
    await pg.query('REVOKE INSERT ON ekm_keys.events FROM ekm_keys');
    try {
      for (const [op, body] of [
        ['generate-data-key', { keyId: key, encryptionContext: ctx }],
        ['decrypt', { ciphertextBlob: enc.ciphertextBlob, encryptionContext: ctx }],
        ['generate-data-key-batch', { items: [{ keyId: key, encryptionContext: ctx }] }],
        ['decrypt-batch', { items: [{ ciphertextBlob: enc.ciphertextBlob, encryptionContext: ctx }] }],
      ] as const) {
        const r = await call(nc, op, body);
        expect(r).toEqual({ ok: false, error: { code: 'EKM_AUDIT_UNAVAILABLE', message: expect.any(String) } });
      }
    } finally {
      await pg.query('GRANT INSERT ON ekm_keys.events TO ekm_keys');
    }
    expect((await okData<DataKey>(nc, 'decrypt', { ciphertextBlob: enc.ciphertextBlob, encryptionContext: ctx })).keyId).toBe(key);
  });
});

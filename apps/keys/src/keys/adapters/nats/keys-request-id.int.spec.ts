/**
 * The request-id rule exists once, in the transport: a raw NATS caller that sends no `Ekm-Request-Id`
 * (or one that breaks the rule) is served under ONE id the service chooses, and that same id is in the
 * reply header and in the record the request left (usage record, or AccessDenied for a refused body).
 * Before, the transport put one fresh UUID in the reply and the handlers drew another for the record.
 */
import { headers, type MsgHdrs } from '@nats-io/transport-node';
import { isRequestId, subject, type Operation, type Reply } from '@ekm/contracts';
import { waitFor } from '../../../../../../test/support/wait-for';
import { dataOf, startKeysHarness, type Harness } from './keys-admin.test-harness';
import { USAGE_RECORDS } from '../../../../../../test/support/usage-records';

describe('one request id per request (raw NATS callers)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startKeysHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  /** A raw request with no request id (or `given`); returns the reply and the id in its header. */
  async function raw<T>(op: Operation<'keys'>, body: unknown, given?: string): Promise<{ reply: Reply<T>; requestId: string }> {
    let hdrs: MsgHdrs | undefined;
    if (given !== undefined) {
      hdrs = headers();
      hdrs.set('Ekm-Request-Id', given);
    }
    const m = await h.nc.request(subject('keys', op), JSON.stringify(body), { timeout: 20_000, ...(hdrs ? { headers: hdrs } : {}) });
    const requestId = m.headers?.get('Ekm-Request-Id') ?? '';
    expect(isRequestId(requestId)).toBe(true);
    return { reply: m.json<Reply<T>>(), requestId };
  }

  async function recordsOf(type: string, requestId: string): Promise<Array<{ requestId?: string; operation?: string; outcome?: string }>> {
    const { rows } = await h.db.query<{ data: { requestId?: string; operation?: string; outcome?: string } }>(
      // Usage records arrive one per group commit inside KeyUsageBatchRecorded: read them record by record.
      type === 'KeyUsageRecorded'
        ? `SELECT data FROM ${USAGE_RECORDS} WHERE data->>'requestId' = $1`
        : `SELECT data FROM ekm_keys.events WHERE event_type = '${type}' AND data->>'requestId' = $1`,
      [requestId]);
    return rows.map((r) => r.data);
  }

  it('a lifecycle call and a data-plane call without a request id: the reply header id is the usage record id', async () => {
    const created = await raw<{ keyId: string }>('create-key', { tenant: 'acme', description: 'request id rule' });
    const { keyId } = dataOf(created.reply);
    expect(await recordsOf('KeyUsageRecorded', created.requestId)).toEqual([expect.objectContaining({ requestId: created.requestId, operation: 'CreateKey', outcome: 'ALLOWED' })]);

    const dk = await raw('generate-data-key', { keyId, keySpec: 'AES_256', encryptionContext: { tenant: 'acme' } });
    expect(dk.reply.ok).toBe(true);
    expect(dk.requestId).not.toBe(created.requestId);
    expect(await recordsOf('KeyUsageRecorded', dk.requestId)).toEqual([expect.objectContaining({ requestId: dk.requestId, operation: 'GenerateDataKey', outcome: 'ALLOWED' })]);
  });

  it('a request id that breaks the rule is replaced by one id, in the reply and in the record', async () => {
    const failed = await raw('describe-key', { keyId: 'alias/no-such-key' }, 'not a valid id!');
    expect(failed.reply).toMatchObject({ ok: false, error: { code: 'EKM_KEY_NOT_FOUND' } });
    expect(failed.requestId).not.toBe('not a valid id!');
    expect(await recordsOf('KeyUsageRecorded', failed.requestId)).toEqual([expect.objectContaining({ requestId: failed.requestId, operation: 'DescribeKey', outcome: 'FAILED' })]);
  });

  it('a refused body without a request id: the AccessDenied record carries the reply header id', async () => {
    const refused = await raw('generate-data-key', { keyId: 42 });
    expect(refused.reply).toMatchObject({ ok: false, error: { code: 'EKM_VALIDATION' } });
    // Refusal records are written by a rate-limited background recorder (not fail-closed): wait for it.
    const rows = await waitFor(async () => {
      const r = await recordsOf('AccessDenied', refused.requestId);
      return r.length > 0 ? r : null;
    });
    expect(rows).toEqual([expect.objectContaining({ requestId: refused.requestId, operation: 'GenerateDataKey' })]);
  });
});

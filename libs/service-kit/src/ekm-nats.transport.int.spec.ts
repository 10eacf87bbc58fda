import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { SpanKind } from '@opentelemetry/api';
import { Client } from 'pg';
import { loadConfig } from '@ekm/config';
import type { Reply } from '@ekm/contracts';
import { createLogger, initTelemetry, withClientSpan, type Telemetry } from '@ekm/telemetry';
import { createTestDatabase, urlFor } from '../../../test/support/pg';
import { startServiceApp, type ServiceApp } from './bootstrap';
import { sampleModule } from './service-kit.test-fixture';

const prefix = `ekm.v1.t${randomBytes(4).toString('hex')}`;
const logLines: string[] = [];
const sink = new Writable({ write(chunk, _e, cb) { logLines.push(...String(chunk).split('\n').filter(Boolean)); cb(); } });

describe('EkmNatsTransport + service app (real NATS and Postgres)', () => {
  let tel: Telemetry;
  let svc: ServiceApp;
  let nc: NatsConnection;
  let admin: Client;
  let closed = false;

  const request = async <T>(op: string, body: string | Uint8Array, hdrs = headers()): Promise<Reply<T>> =>
    (await nc.request(`${prefix}.${op}`, body, { timeout: 5000, headers: hdrs })).json<Reply<T>>();
  const eventCount = async (): Promise<number> => Number((await admin.query('select count(*)::int as n from ekm_audit.events')).rows[0].n);

  beforeAll(async () => {
    tel = initTelemetry({ serviceName: 'ekm-test', exporter: 'memory', instrumentPg: false });
    const db = await createTestDatabase('ekm_sk');
    const config = loadConfig('audit', {
      EKM_NATS_URL: process.env.EKM_TEST_NATS_URL, EKM_DATABASE_ADMIN_URL: db.url, EKM_DATABASE_URL: urlFor(db.name, 'ekm_audit'),
      EKM_HTTP_PORT: '0', EKM_AUTH: 'disabled', EKM_MAX_REQUEST_BYTES: '2048', EKM_SHUTDOWN_GRACE_MS: '5000',
    });
    svc = await startServiceApp({ config, module: sampleModule(prefix), logger: createLogger('audit', { destination: sink }) });
    nc = await connect({ servers: process.env.EKM_TEST_NATS_URL });
    admin = new Client({ connectionString: db.url });
    await admin.connect();
  });

  afterAll(async () => {
    if (!closed) await svc.close();
    await nc.close();
    await admin.end();
    await tel.shutdown();
  });

  it('a valid request appends one event and replies ok', async () => {
    const before = await eventCount();
    expect(await request('append', JSON.stringify({ streamId: 's-1', amount: 5 }))).toEqual({ ok: true, data: { version: 1 } });
    expect(await eventCount()).toBe(before + 1);
  });

  it.each([
    ['malformed JSON', '{"streamId": "s-2", amount: ', 'EKM_MALFORMED_REQUEST', /^request body is not valid JSON$/],
    ['oversized body', JSON.stringify({ streamId: 's-2', amount: 1, note: 'x'.repeat(3000) }), 'EKM_PAYLOAD_TOO_LARGE', /^request body is \d+ bytes; the limit is 2048 bytes$/],
    ['wrongly typed field', JSON.stringify({ streamId: 's-2', amount: '5' }), 'EKM_VALIDATION', /^amount: must be an integer between 1 and 100$/],
    ['unknown field', JSON.stringify({ streamId: 's-2', amount: 1, extra: true }), 'EKM_VALIDATION', /^\(request\): has unknown field extra$/],
  ])('%s gets its typed error and leaves the database unchanged', async (_name, body, code, message) => {
    const before = await eventCount();
    const r = await request('append', body);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe(code);
    expect(r.error.message).toMatch(message);
    expect(await eventCount()).toBe(before);
  });

  it('maps an exception to EKM_INTERNAL with the request id, and logs it without the body', async () => {
    const hdrs = headers();
    hdrs.set('Ekm-Request-Id', 'req-boom-1');
    const r = await request('boom', JSON.stringify({ plaintext: 'TOP-SECRET-PLAINTEXT-91' }), hdrs);
    expect(r).toEqual({ ok: false, error: { code: 'EKM_INTERNAL', message: 'internal error (request id req-boom-1)', details: { requestId: 'req-boom-1' } } });
    const line = logLines.find((l) => l.includes('req-boom-1'));
    expect(line).toBeDefined();
    expect(JSON.parse(line!)).toMatchObject({ level: 'error', msg: 'request handler failed', err: { message: 'simulated failure' } });
    expect(logLines.join('\n')).not.toContain('TOP-SECRET-PLAINTEXT-91');
  });

  it('propagates traceparent: the handler runs in a server span of the caller trace', async () => {
    const subject = `${prefix}.traced`;
    const { reply, traceId, spanId } = await withClientSpan(subject, async (hdrs, span) => ({
      reply: (await nc.request(subject, '', { headers: hdrs, timeout: 5000 })).json<Reply<{ traceId: string }>>(),
      traceId: span.spanContext().traceId,
      spanId: span.spanContext().spanId,
    }));
    expect(reply).toEqual({ ok: true, data: { traceId } });
    const server = tel.memoryExporter!.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER && s.name === subject);
    expect(server?.spanContext().traceId).toBe(traceId);
    expect(server?.parentSpanContext?.spanId).toBe(spanId);
  });

  it('serves readiness and metrics over HTTP', async () => {
    const ready = await fetch(`http://127.0.0.1:${svc.httpPort}/health/ready`);
    const body = (await ready.json()) as { checks: { name: string; ok: boolean }[] };
    expect(ready.status).toBe(200);
    expect(body.checks.map((c) => c.name).sort()).toEqual(['jetstream', 'nats', 'postgres', 'transport']);
    expect((await fetch(`http://127.0.0.1:${svc.httpPort}/health/live`)).status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${svc.httpPort}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`ekm_requests_total\\{[^}]*subject="${prefix.replace(/\./g, '\\.')}\\.append"[^}]*code="EKM_VALIDATION"[^}]*\\} 2`));
    expect(metrics).toMatch(new RegExp(`ekm_requests_total\\{[^}]*subject="${prefix.replace(/\./g, '\\.')}\\.append"[^}]*code="OK"[^}]*\\} 1`));
    expect(metrics).toContain('ekm_request_duration_seconds_bucket');
    expect(metrics).toContain('ekm_process_cpu_user_seconds_total');
  });

  // After the metrics test: these replies would change the counts it checks.
  const withDeadline = (value: string): ReturnType<typeof headers> => {
    const h = headers();
    h.set('Ekm-Timeout-Ms', value);
    return h;
  };

  it.each([
    ['no time left', '0', 'EKM_DEADLINE_EXCEEDED', /Ekm-Timeout-Ms has passed, so nothing was done/],
    ['no time left, zero-padded', '000', 'EKM_DEADLINE_EXCEEDED', /Ekm-Timeout-Ms has passed/],
    ['a garbage deadline', 'tomorrow', 'EKM_VALIDATION', /^Ekm-Timeout-Ms must be the milliseconds the caller still waits/],
    ['a negative deadline', '-1', 'EKM_VALIDATION', /^Ekm-Timeout-Ms must be/],
    ['an absolute epoch-ms deadline (too many digits)', String(Date.now() + 5_000), 'EKM_VALIDATION', /^Ekm-Timeout-Ms must be/],
    ['a fractional deadline', '5000.5', 'EKM_VALIDATION', /^Ekm-Timeout-Ms must be/],
  ])('%s is refused with its typed error and nothing is recorded', async (_name, value, code, message) => {
    const before = await eventCount();
    const r = await request('append', JSON.stringify({ streamId: 's-deadline', amount: 1 }), withDeadline(value));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe(code);
    expect(r.error.message).toMatch(message);
    expect(await eventCount()).toBe(before);
  });

  it.each([
    ['ten seconds left', () => '10000'],
    ['a far-future deadline (clamped to the maximum)', () => '999999999'],
  ])('%s is served', async (_name, value) => {
    const before = await eventCount();
    const r = await request('append', JSON.stringify({ streamId: `s-fine-${randomBytes(4).toString('hex')}`, amount: 1 }), withDeadline(value()));
    expect(r.ok).toBe(true);
    expect(await eventCount()).toBe(before + 1);
  });

  it('a handler serves inside its request deadline: the caller\'s (clamped) or the default', async () => {
    const sent = Date.now();
    const given = await request<{ deadline: number }>('deadline', '', withDeadline('7000'));
    // From arrival on the service's clock: no earlier than the send plus 7 s, no later than now plus 7 s.
    expect(given.ok && given.data.deadline).toBeGreaterThanOrEqual(sent + 7_000);
    expect(given.ok && given.data.deadline).toBeLessThanOrEqual(Date.now() + 7_000);
    const before = Date.now();
    const dflt = await request<{ deadline: number }>('deadline', '');
    expect(dflt.ok && dflt.data.deadline).toBeGreaterThanOrEqual(before + 30_000);
    const far = await request<{ deadline: number }>('deadline', '', withDeadline('999999999'));
    expect(far.ok && far.data.deadline).toBeLessThanOrEqual(Date.now() + 120_000);
  });

  it('close() lets an in-flight slow handler finish and reply, then stops serving', async () => {
    const pending = request<{ sleptMs: number }>('slow', JSON.stringify({ ms: 400 }));
    const deadline = Date.now() + 2000;
    while (svc.transport.inFlightCount === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(svc.transport.inFlightCount).toBe(1);
    const t0 = Date.now();
    await svc.close();
    closed = true;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(await pending).toEqual({ ok: true, data: { sleptMs: 400 } });
    await expect(nc.request(`${prefix}.append`, '{}', { timeout: 1000 })).rejects.toThrow();
  });
});

import { connect, type NatsConnection } from '@nats-io/transport-node';
import { SpanKind, trace } from '@opentelemetry/api';
import { randomUUID } from 'node:crypto';
import { extractTraceContext, withClientSpan, withServerSpan } from './nats-trace';
import { initTelemetry, type Telemetry } from './tracing';

describe('trace context over NATS', () => {
  let nc: NatsConnection;
  let tel: Telemetry;

  beforeAll(async () => {
    tel = initTelemetry({ serviceName: 'ekm-test', exporter: 'memory', instrumentPg: false });
    nc = await connect({ servers: process.env.EKM_TEST_NATS_URL });
  });
  afterAll(async () => {
    await nc.close();
    await tel.shutdown();
  });

  it('client injects traceparent, server extracts it: one trace, server span is the child', async () => {
    const subj = `ekm.test.${randomUUID()}`;
    const seen: string[] = [];
    nc.subscribe(subj, {
      callback: (_err, msg) => {
        void withServerSpan(subj, msg.headers, async () => {
          seen.push(msg.headers?.get('traceparent') ?? '');
          msg.respond(JSON.stringify({ traceId: trace.getActiveSpan()?.spanContext().traceId }));
        });
      },
    });
    await nc.flush();
    const reply = await withClientSpan(subj, async (hdrs) => (await nc.request(subj, '{}', { headers: hdrs, timeout: 2000 })).json<{ traceId: string }>());
    const spans = tel.memoryExporter!.getFinishedSpans();
    const client = spans.find((s) => s.kind === SpanKind.CLIENT && s.name === subj)!;
    const server = spans.find((s) => s.kind === SpanKind.SERVER && s.name === subj)!;
    expect(client).toBeDefined();
    expect(server).toBeDefined();
    expect(seen[0]).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(server.spanContext().traceId).toBe(client.spanContext().traceId);
    expect(reply.traceId).toBe(client.spanContext().traceId);
    expect(server.parentSpanContext?.spanId).toBe(client.spanContext().spanId);
    expect(server.attributes['messaging.destination.name']).toBe(subj);
  });

  it('a message without headers starts a new trace', () => {
    const ctx = extractTraceContext(undefined);
    expect(trace.getSpanContext(ctx)).toBeUndefined();
  });
});

import { context, propagation, trace } from '@opentelemetry/api';
import { headers } from '@nats-io/transport-node';
import { currentTraceparent, withServerSpan } from './nats-trace';
import { ekmTracer, initTelemetry, type Telemetry } from './tracing';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/;

describe('initTelemetry without an exporter: spans propagate but are not recorded', () => {
  let tel: Telemetry;
  beforeAll(() => {
    tel = initTelemetry({ serviceName: 'ekm-test' });
  });
  afterAll(() => tel.shutdown());

  it('continues the caller trace (same trace id and flags, a new span id) with a non-recording span', async () => {
    for (const flags of ['01', '00']) {
      const h = headers();
      h.set('traceparent', `00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-${flags}`);
      const seen = await withServerSpan('ekm.v1.test.op', h, async (span) => ({ recording: span.isRecording(), tp: currentTraceparent() }));
      expect(seen.recording).toBe(false);
      const m = TRACEPARENT.exec(seen.tp ?? '');
      expect(m?.[1]).toBe('0af7651916cd43dd8448eb211c80319c');
      expect(m?.[2]).not.toBe('b7ad6b7169203331');
      expect(m?.[3]).toBe(flags);
    }
  });

  it('starts a new sampled trace for a request without traceparent, and nested spans stay in it', async () => {
    const outer = await withServerSpan('ekm.v1.test.op', undefined, async () => {
      const inner = ekmTracer().startActiveSpan('inner', (s) => { s.end(); return currentTraceparent(); });
      return { tp: currentTraceparent(), inner };
    });
    const o = TRACEPARENT.exec(outer.tp ?? '');
    const i = TRACEPARENT.exec(outer.inner ?? '');
    expect(o?.[3]).toBe('01');
    expect(i?.[1]).toBe(o?.[1]);
    expect(i?.[2]).not.toBe(o?.[2]);
    // Outside any span nothing is propagated.
    const carrier: Record<string, string> = {};
    propagation.inject(context.active(), carrier);
    expect(carrier.traceparent).toBeUndefined();
    expect(trace.getActiveSpan()).toBeUndefined();
  });
});

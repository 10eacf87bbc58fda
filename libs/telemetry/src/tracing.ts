/**
 * OpenTelemetry tracing for an EKM process: one NodeTracerProvider, the W3C trace-context propagator,
 * pg instrumentation, and an exporter — OTLP/HTTP only when an endpoint is configured, or an
 * in-memory exporter for tests. Spans never carry request bodies (they may hold plaintext).
 */
import { randomFillSync } from 'node:crypto';
import { context, isSpanContextValid, propagation, trace, TraceFlags, type Context, type Span, type SpanContext, type SpanOptions, type Tracer, type TracerProvider } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  InMemorySpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';

/** Options of {@link initTelemetry}. */
export interface TelemetryOptions {
  /** `service.name` resource attribute, e.g. `ekm-keys`. */
  readonly serviceName: string;
  /**
   * OTLP/HTTP traces URL (`EKM_OTLP_ENDPOINT`). Unset (and no `exporter`) = spans are not recorded at all:
   * each span is a non-recording span that only carries the trace context (the caller's trace id and
   * flags, a fresh span id; a new sampled trace id for a root), so `traceparent` still propagates to
   * callees, events and usage records, at no recording cost. The pg instrumentation is then off too.
   */
  readonly otlpEndpoint?: string;
  /**
   * `'memory'` collects finished spans in an InMemorySpanExporter (tests); a SpanExporter is used as
   * given (with a simple processor). Takes precedence over `otlpEndpoint`.
   */
  readonly exporter?: 'memory' | SpanExporter;
  /** Register the pg instrumentation (default true; never without an exporter). */
  readonly instrumentPg?: boolean;
}

/** What {@link initTelemetry} set up. */
export interface Telemetry {
  readonly provider: NodeTracerProvider;
  readonly tracer: Tracer;
  /** Present when `exporter: 'memory'`. */
  readonly memoryExporter?: InMemorySpanExporter;
  /** Exports what is buffered. */
  forceFlush(): Promise<void>;
  /** Flushes, stops exporting, and unregisters the global provider/propagator. */
  shutdown(): Promise<void>;
}

/** Instrumentation scope name of EKM's own spans. */
export const TRACER_NAME = '@ekm/telemetry';

let current: { telemetry: Telemetry; unregister: () => void } | undefined;

/** The tracer for EKM spans (a no-op tracer before {@link initTelemetry}). */
export function ekmTracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/**
 * Installs tracing for this process and returns a handle. Call it once, first thing in `main`;
 * a second call (tests) replaces the previous setup.
 */
export function initTelemetry(opts: TelemetryOptions): Telemetry {
  if (current) {
    current.unregister();
    void current.telemetry.provider.shutdown().catch(() => undefined);
    current = undefined;
  }
  const processors: SpanProcessor[] = [];
  let memoryExporter: InMemorySpanExporter | undefined;
  if (opts.exporter === 'memory') {
    memoryExporter = new InMemorySpanExporter();
    processors.push(new SimpleSpanProcessor(memoryExporter));
  } else if (opts.exporter) {
    processors.push(new SimpleSpanProcessor(opts.exporter));
  } else if (opts.otlpEndpoint) {
    processors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url: opts.otlpEndpoint })));
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': opts.serviceName }),
    spanProcessors: processors,
  });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  const recording = processors.length > 0;
  let tracerProvider: TracerProvider = provider;
  if (!recording) {
    // Nothing would ever export a span: keep the SDK's context manager and propagator, but hand out
    // spans that only propagate (the profile showed ~3 % of the keys service's CPU in recorded spans).
    tracerProvider = new PropagatingTracerProvider();
    trace.disable();
    trace.setGlobalTracerProvider(tracerProvider);
  }
  let disableInstrumentations = (): void => undefined;
  if (opts.instrumentPg !== false && recording) {
    disableInstrumentations = registerInstrumentations({ tracerProvider: provider, instrumentations: [new PgInstrumentation({ requireParentSpan: true })] });
    // The hook patches pg on its next require(); pg patches prototypes, so modules that loaded pg
    // before this call are covered too.
    try {
      require('pg');
    } catch {
      /* pg not installed: nothing to instrument */
    }
  }
  const unregister = (): void => {
    disableInstrumentations();
    trace.disable();
    propagation.disable();
    context.disable();
  };
  const telemetry: Telemetry = {
    provider,
    tracer: tracerProvider.getTracer(TRACER_NAME),
    ...(memoryExporter ? { memoryExporter } : {}),
    forceFlush: () => provider.forceFlush(),
    shutdown: async () => {
      if (current?.telemetry === telemetry) current = undefined;
      await provider.shutdown();
      unregister();
    },
  };
  current = { telemetry, unregister };
  return telemetry;
}

/**
 * 16 or 32 lowercase hex digits, never all zero (ids, not secrets). Cut from a pooled block of random
 * bytes hex-encoded natively: per-id string building with toString(16)/padStart showed in the profile.
 */
const ID_POOL_BYTES = 4096;
const idPool = Buffer.allocUnsafe(ID_POOL_BYTES);
let idPoolAt = ID_POOL_BYTES;
function randomHex(len: number): string {
  const bytes = len / 2;
  if (idPoolAt + bytes > ID_POOL_BYTES) {
    randomFillSync(idPool);
    idPoolAt = 0;
  }
  const out = idPool.toString('hex', idPoolAt, idPoolAt + bytes);
  idPoolAt += bytes;
  return out === ZEROS[len] ? `${out.slice(0, -1)}1` : out;
}
const ZEROS: Readonly<Record<number, string>> = { 16: '0'.repeat(16), 32: '0'.repeat(32) };

/** Tracer of non-recording spans that continue the parent's trace (see `otlpEndpoint`). */
class PropagatingTracer implements Tracer {
  startSpan(_name: string, options?: SpanOptions, ctx: Context = context.active()): Span {
    const parent = options?.root ? undefined : trace.getSpanContext(ctx);
    const sc: SpanContext = parent && isSpanContextValid(parent)
      ? { traceId: parent.traceId, spanId: randomHex(16), traceFlags: parent.traceFlags, ...(parent.traceState ? { traceState: parent.traceState } : {}) }
      : { traceId: randomHex(32), spanId: randomHex(16), traceFlags: TraceFlags.SAMPLED };
    return trace.wrapSpanContext(sc);
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, ...rest: unknown[]): ReturnType<F> {
    const fn = rest[rest.length - 1] as F;
    const options = (rest.length >= 2 ? rest[0] : undefined) as SpanOptions | undefined;
    const ctx = (rest.length >= 3 ? rest[1] : undefined) as Context | undefined ?? context.active();
    const span = this.startSpan(name, options, ctx);
    return context.with(trace.setSpan(ctx, span), (sp: Span) => fn(sp), undefined, span) as ReturnType<F>;
  }
}

class PropagatingTracerProvider implements TracerProvider {
  private readonly tracer = new PropagatingTracer();
  getTracer(): Tracer {
    return this.tracer;
  }
}

/**
 * OpenTelemetry tracing for an EKM process: one NodeTracerProvider, the W3C trace-context propagator,
 * pg instrumentation, and an exporter — OTLP/HTTP only when an endpoint is configured, or an
 * in-memory exporter for tests. Spans never carry request bodies (they may hold plaintext).
 */
import { context, propagation, trace, type Tracer } from '@opentelemetry/api';
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
  /** OTLP/HTTP traces URL (`EKM_OTLP_ENDPOINT`); unset = spans are made (for propagation) but not exported. */
  readonly otlpEndpoint?: string;
  /**
   * `'memory'` collects finished spans in an InMemorySpanExporter (tests); a SpanExporter is used as
   * given (with a simple processor). Takes precedence over `otlpEndpoint`.
   */
  readonly exporter?: 'memory' | SpanExporter;
  /** Register the pg instrumentation (default true). */
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
  let disableInstrumentations = (): void => undefined;
  if (opts.instrumentPg !== false) {
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
    tracer: provider.getTracer(TRACER_NAME),
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

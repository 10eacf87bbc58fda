/**
 * Trace context over NATS headers (W3C `traceparent`/`tracestate`), and the span helpers the
 * transport and clients use. The responder cannot see the caller, so the header is the only link.
 */
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api';
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import { ekmTracer } from './tracing';

const setter: TextMapSetter<MsgHdrs> = { set: (h, key, value) => h.set(key, value) };
const getter: TextMapGetter<MsgHdrs | undefined> = {
  keys: (h) => (h ? h.keys() : []),
  get: (h, key) => {
    if (!h || !h.has(key)) return undefined;
    return h.get(key);
  },
};

/** Writes the trace context of `ctx` (default: the active one) into `hdrs` (created when absent). */
export function injectTraceContext(hdrs: MsgHdrs = natsHeaders(), ctx: Context = context.active()): MsgHdrs {
  propagation.inject(ctx, hdrs, setter);
  return hdrs;
}

/** The context carried by `hdrs` (the root context when there is none, or it is malformed). */
export function extractTraceContext(hdrs: MsgHdrs | undefined): Context {
  return propagation.extract(ROOT_CONTEXT, hdrs, getter);
}

/** The SERVER span attributes of a subject, built once per subject (every request of it used to build them again). */
const serverAttributeCache = new Map<string, Attributes>();
function serverAttributes(subject: string): Attributes {
  let a = serverAttributeCache.get(subject);
  if (a === undefined) {
    a = Object.freeze({ 'messaging.system': 'nats', 'messaging.destination.name': subject, 'messaging.operation.type': 'process' });
    // Bounded: request subjects are a fixed set per service; a flood of odd subjects stops being cached.
    if (serverAttributeCache.size < 1024) serverAttributeCache.set(subject, a);
  }
  return a;
}

/** Runs `fn` in a span, ending it with ERROR status if `fn` throws; the exception message is not recorded (it may echo input). */
async function runInSpan<T>(span: Span, ctx: Context, fn: (span: Span) => Promise<T>): Promise<T> {
  try {
    return await context.with(trace.setSpan(ctx, span), () => fn(span));
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.name : 'error' });
    throw err;
  } finally {
    span.end();
  }
}

/**
 * Runs a request handler inside a SERVER span named after `subject`, child of the caller's span
 * found in `hdrs`. Attributes: messaging system/destination only — never the body.
 */
export function withServerSpan<T>(subject: string, hdrs: MsgHdrs | undefined, fn: (span: Span) => Promise<T>, attributes?: Attributes): Promise<T> {
  const parent = extractTraceContext(hdrs);
  const span = ekmTracer().startSpan(subject, {
    kind: SpanKind.SERVER,
    attributes: attributes === undefined ? serverAttributes(subject) : { ...serverAttributes(subject), ...attributes },
  }, parent);
  return runInSpan(span, parent, fn);
}

/**
 * Runs a request as a CLIENT span named after `subject`; `fn` gets NATS headers that already carry
 * this span's `traceparent`, to pass to `nc.request(subject, body, { headers })`.
 */
export function withClientSpan<T>(subject: string, fn: (hdrs: MsgHdrs, span: Span) => Promise<T>, attributes: Attributes = {}): Promise<T> {
  const parent = context.active();
  const span = ekmTracer().startSpan(subject, {
    kind: SpanKind.CLIENT,
    attributes: { 'messaging.system': 'nats', 'messaging.destination.name': subject, 'messaging.operation.type': 'send', ...attributes },
  }, parent);
  const hdrs = injectTraceContext(natsHeaders(), trace.setSpan(parent, span));
  return runInSpan(span, parent, (s) => fn(hdrs, s));
}

/**
 * Runs the handling of one JetStream message as a CONSUMER span, child of the producer's span found in
 * the message headers (the outbox relay copies each event's `traceparent` there), so the audit entry a
 * request caused is part of the request's trace.
 */
export function withConsumerSpan<T>(subject: string, hdrs: MsgHdrs | undefined, fn: (span: Span) => Promise<T>, attributes: Attributes = {}): Promise<T> {
  const parent = extractTraceContext(hdrs);
  const span = ekmTracer().startSpan(`${subject} process`, {
    kind: SpanKind.CONSUMER,
    attributes: { 'messaging.system': 'nats', 'messaging.destination.name': subject, 'messaging.operation.type': 'process', ...attributes },
  }, parent);
  return runInSpan(span, parent, fn);
}

/** The `traceparent` of the active span, for event metadata (`EventMeta.traceparent`); undefined outside a span. */
export function currentTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

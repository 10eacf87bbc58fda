/** `@ekm/telemetry`: OpenTelemetry tracing with trace context over NATS headers, and redacting JSON logs. */
export { initTelemetry, ekmTracer, TRACER_NAME, type Telemetry, type TelemetryOptions } from './tracing';
export { injectTraceContext, extractTraceContext, withServerSpan, withClientSpan, withConsumerSpan, currentTraceparent } from './nats-trace';
export { createLogger, REDACT_PATHS, REDACTED, SENSITIVE_FIELDS, type Logger, type LoggerOptions } from './logger';

/**
 * EkmNatsTransport: a Nest custom transport for request/reply on `ekm.v1.<service>.<operation>`,
 * built on the v3 client directly (after Nest's server-nats.js) so that EKM, not Nest, owns the wire
 * format: the body is the request JSON, the reply is a `Reply` envelope, errors carry `EKM_*` codes.
 *
 * Per message: size limit → deadline (`Ekm-Timeout-Ms`: malformed → EKM_VALIDATION, passed →
 * EKM_DEADLINE_EXCEEDED, before anything is checked or recorded) → authentication (`auth`) → rate limit (`rateLimit`, per principal) → `msg.json()` →
 * handler in a SERVER span → reply. Unexpected exceptions
 * become `EKM_INTERNAL` with a request id; the log line never includes the body.
 * `close()` drains subscriptions, waits for in-flight handlers, then drains the connection.
 */
import { CustomTransportStrategy, Server, type MessageHandler } from '@nestjs/microservices';
import { headers as natsHeaders, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { isObservable, lastValueFrom } from 'rxjs';
import { BusErrorCode, DEADLINE_HEADER, fail, isPastDeadline, isReply, parseDeadline, queueGroup, REQUEST_ID_HEADER, TRACEPARENT_HEADER, type Reply, type ServiceName } from '@ekm/contracts';
import { bodySeal, type BodySeal } from './body-seal';
import { withServerSpan, type Logger } from '@ekm/telemetry';
import { OUTCOME_OK, type RequestMetrics } from './metrics';
import { EkmRequestContext, requestIdFromHeaders, type RequestFacts, type TransportAuth } from './request-auth';
import { withRequestDeadline } from './request-deadline';
import type { RequestRateLimit } from './request-rate-limit';

/** Options of {@link EkmNatsTransport}. */
export interface EkmNatsTransportOptions {
  readonly service: ServiceName;
  /** An open connection; the transport drains it on `close()` unless `drainConnectionOnClose: false`. */
  readonly connection: NatsConnection;
  readonly logger: Logger;
  /** Largest accepted body in bytes (EKM_MAX_REQUEST_BYTES). */
  readonly maxRequestBytes: number;
  /** How long `close()` waits for in-flight handlers (EKM_SHUTDOWN_GRACE_MS). */
  readonly shutdownGraceMs: number;
  readonly metrics?: RequestMetrics;
  readonly drainConnectionOnClose?: boolean;
  /** Authenticates every request before its handler (@ekm/auth); without it handlers see no principal. */
  readonly auth?: TransportAuth;
  /** Per-principal (and per-tenant) token buckets, checked after `auth`; without it nothing is rate limited. */
  readonly rateLimit?: RequestRateLimit | null;
}

/** The reply to a request whose deadline passed before `when` (nothing was started). */
export const deadlineExceeded = (when: string): Reply<never> =>
  fail(BusErrorCode.DeadlineExceeded, `the request ${when}: its ${DEADLINE_HEADER} has passed, so nothing was done`);

const sleep = (ms: number): Promise<'timeout'> => new Promise((r) => setTimeout(() => r('timeout'), ms).unref());

export class EkmNatsTransport extends Server implements CustomTransportStrategy {
  private readonly subscriptions: Subscription[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private listening = false;
  private closing: Promise<void> | null = null;

  constructor(private readonly opts: EkmNatsTransportOptions) {
    super();
  }

  /** Number of requests being handled now. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** True between `listen()` and `close()`. */
  get isListening(): boolean {
    return this.listening;
  }

  listen(callback: (err?: unknown) => void): void {
    try {
      const queue = queueGroup(this.opts.service);
      for (const [pattern, handler] of this.messageHandlers) {
        // Events come through JetStream durable consumers (at-least-once), never core NATS subjects.
        if (handler.isEventHandler) throw new Error(`EkmNatsTransport serves request/reply only; ${pattern} is an @EventPattern`);
        const sub = this.opts.connection.subscribe(pattern, {
          queue,
          callback: (err, msg) => {
            if (err) return this.opts.logger.error({ subject: pattern, err: err.message }, 'subscription error');
            // The handler is resolved once here: Nest's getHandlerByPattern tries JSON.parse on the
            // subject of every message (and throws) before its map lookup (3 % of CPU under load).
            this.track(this.handle(pattern, handler, msg));
          },
        });
        this.subscriptions.push(sub);
      }
    } catch (err) {
      callback(err);
      return;
    }
    // Flush so the server has every SUB before we report listening (and the service logs "ready").
    this.opts.connection.flush().then(() => {
      this.listening = true;
      this._status$.next('connected');
      callback();
    }, (err: unknown) => callback(err));
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private async handle(pattern: string, handler: MessageHandler, msg: Msg): Promise<void> {
    const started = performance.now();
    const arrived = Date.now();
    // The request id is chosen here, once: the reply header, the logs and every record carry this one.
    const requestId = requestIdFromHeaders(msg.headers);
    const deadline = parseDeadline(msg.headers?.has(DEADLINE_HEADER) ? msg.headers.get(DEADLINE_HEADER) : undefined, arrived);
    let code: string = OUTCOME_OK;
    try {
      await withServerSpan(msg.subject, msg.headers, async (span) => {
        span.setAttribute('ekm.request_id', requestId);
        const seal: { key?: BodySeal } = {};
        const traceparent = msg.headers?.has(TRACEPARENT_HEADER) ? msg.headers.get(TRACEPARENT_HEADER) : '';
        const facts: RequestFacts = { requestId, traceId: span.spanContext().traceId, ...(traceparent !== '' ? { traceparent } : {}), ...(deadline.ok ? { deadline: deadline.deadline } : {}) };
        const reply = !deadline.ok
          ? fail(BusErrorCode.Validation, deadline.message)
          : await this.produceReply(pattern, handler, msg, facts, seal);
        if (!reply.ok) {
          code = reply.error.code;
          span.setAttribute('ekm.error_code', code);
        }
        this.respond(msg, reply, requestId, seal.key);
      });
    } catch (err) {
      // Only a failure to respond (connection gone) lands here; the handler's own errors are mapped below.
      code = BusErrorCode.Internal;
      this.opts.logger.error({ subject: msg.subject, requestId, err: err instanceof Error ? err.message : String(err) }, 'reply failed');
    } finally {
      this.opts.metrics?.observe(pattern, code, (performance.now() - started) / 1000);
    }
  }

  /** `seal.key` is set once the request opened under a session: the reply is then sealed too. */
  private async produceReply(pattern: string, handler: MessageHandler, msg: Msg, facts: RequestFacts, seal: { key?: BodySeal }): Promise<Reply<unknown>> {
    const { requestId } = facts;
    const size = msg.data.length;
    if (size > this.opts.maxRequestBytes) {
      return fail(BusErrorCode.PayloadTooLarge, `request body is ${size} bytes; the limit is ${this.opts.maxRequestBytes} bytes`, { size, limit: this.opts.maxRequestBytes });
    }
    // Before authentication: a request nobody waits for must not claim a nonce or cost a signature check.
    const deadline = facts.deadline ?? 0;
    if (isPastDeadline(deadline, Date.now())) return deadlineExceeded('arrived after it');
    let principal = null;
    let sessionKey: Buffer | undefined;
    if (this.opts.auth) {
      const checked = await this.opts.auth.check(msg, requestId);
      if (!checked.ok) return checked.reply;
      principal = checked.principal;
      sessionKey = checked.sessionKey;
    }
    const opened = bodySeal(msg, sessionKey, this.opts.auth?.authenticator.mode === 'required');
    if (!opened.ok) return opened.reply;
    if (opened.seal) seal.key = opened.seal;
    // Before the body is parsed: a refused request costs a map lookup. No principal = the login subject.
    if (principal && this.opts.rateLimit) {
      const refused = this.opts.rateLimit.admit(principal, pattern.slice(pattern.lastIndexOf('.') + 1));
      if (refused) return refused;
    }
    let body: unknown;
    try {
      // An empty body means "no parameters" (e.g. status); anything else must be JSON.
      body = opened.plain !== undefined ? JSON.parse(opened.plain.toString('utf8')) as unknown : size === 0 ? {} : msg.json<unknown>();
    } catch {
      return fail(BusErrorCode.MalformedRequest, 'request body is not valid JSON');
    }
    try {
      const ctx = new EkmRequestContext([msg.subject, msg.headers], principal, msg.reply, facts);
      // Same outcome as lastValueFrom(transformToObservable(...)) without wrapping a plain value.
      const out: unknown = await withRequestDeadline(ctx.deadline, () => handler(body, ctx));
      const result: unknown = isObservable(out) ? await lastValueFrom(out, { defaultValue: undefined }) : await out;
      if (isReply(result)) return result;
      this.opts.logger.error({ subject: msg.subject, requestId }, 'handler returned a value that is not a Reply envelope');
    } catch (err) {
      // Log the error, never the body (it may carry plaintext or key material).
      const e = err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : { message: typeof err === 'object' ? 'non-Error thrown' : String(err) };
      this.opts.logger.error({ subject: msg.subject, requestId, err: e }, 'request handler failed');
    }
    return fail(BusErrorCode.Internal, `internal error (request id ${requestId})`, { requestId });
  }

  private respond(msg: Msg, reply: Reply<unknown>, requestId: string, seal?: BodySeal): void {
    if (!msg.reply) return;
    const h = natsHeaders();
    h.set(REQUEST_ID_HEADER, requestId);
    const text = JSON.stringify(reply);
    if (seal) {
      for (const [k, v] of seal.headers) h.set(k, v);
      msg.respond(seal.seal(text), { headers: h });
      return;
    }
    msg.respond(text, { headers: h });
  }

  /**
   * Graceful stop: unsubscribe with drain (messages already delivered are still handled), wait up
   * to `shutdownGraceMs` for in-flight handlers to reply, then drain the connection. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.listening = false;
    this.opts.auth?.stop();
    const grace = this.opts.shutdownGraceMs;
    const nc = this.opts.connection;
    await Promise.race([Promise.allSettled(this.subscriptions.map((s) => s.drain())), sleep(grace)]);
    const waited = await Promise.race([Promise.allSettled([...this.inFlight]), sleep(grace)]);
    if (waited === 'timeout') this.opts.logger.warn({ inFlight: this.inFlight.size, graceMs: grace }, 'in-flight requests did not finish within the shutdown grace period');
    if (this.opts.drainConnectionOnClose !== false && !nc.isClosed()) {
      const drained = await Promise.race([nc.drain().then(() => 'ok' as const, () => 'failed' as const), sleep(grace)]);
      if (drained !== 'ok') await nc.close().catch(() => undefined);
    }
    this._status$.next('disconnected');
  }

  /** Nest API: status events are not re-emitted; use `NatsConnection.status()` through NATS_CONNECTION. */
  on(): void {
    throw new Error('EkmNatsTransport does not emit events; inject NATS_CONNECTION and read status()');
  }

  unwrap<T>(): T {
    return this.opts.connection as T;
  }
}

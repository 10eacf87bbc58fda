/**
 * The low-level EKM bus client: one request/reply call with timeouts, retries of retriable failures,
 * an idempotency key per call and W3C trace headers. Typed per-operation methods build on `call()`.
 */
import { randomUUID } from 'node:crypto';
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { context, propagation, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import { BusErrorCode, DEADLINE_HEADER, REQUEST_ID_HEADER, isReply, subject, type Operation, type ServiceName } from '@ekm/contracts';
import { openBody, SEAL_HEADER, SEAL_VERSION } from '@ekm/auth/client';
import { EkmError, retryDelayMs } from './ekm-error';
import { toTransportError } from './transport-error';
import { signerFor, type ClientCredentials } from './session-login';
import { DEV_PRINCIPAL_HEADER, LOGIN_SUBJECT, SIGV4_LOGIN_SUBJECT, type SessionSigner } from '@ekm/auth/client';
import { natsConnectOptions, type NatsTlsFiles } from './nats-connect-options';

/** Options of {@link EkmClient.connect}. */
export interface EkmClientOptions {
  /** NATS server URL(s). Default `EKM_NATS_URL` or `nats://127.0.0.1:4222`. */
  readonly servers?: string | string[];
  /** Per-attempt timeout in milliseconds. Default 5000. */
  readonly timeoutMs?: number;
  /**
   * Attempts for retriable failures (timeouts, `EKM_UNAVAILABLE`, `EKM_RATE_LIMITED`, ...). Default 3.
   * Between attempts: exponential backoff, or the service's `retryAfterMs` hint when rate limited.
   */
  readonly maxAttempts?: number;
  /** Inbox prefix for replies (NATS permissions give each caller its own). Default `_INBOX`. */
  readonly inboxPrefix?: string;
  /** Connection name shown by the NATS server. */
  readonly name?: string;
  /** How long the initial connect may take, in milliseconds. Default: the NATS client's (20000). */
  readonly connectTimeoutMs?: number;
  /**
   * Who calls (docs/auth.md): a credential file (parsed, or its path; default `EKM_CREDENTIALS`), or a
   * `SessionSigner` (services: `new SessionSigner(serviceSessionSource(sealer, 'rotation'))`). The client
   * logs in on first use, renews the session before it expires, and signs every request. Unset and no
   * `EKM_CREDENTIALS`: requests are unsigned (only services with EKM_AUTH=disabled accept them).
   */
  readonly credentials?: ClientCredentials;
  /**
   * The EKM service identity to pin (raw Ed25519 public key, base64url). Default: the credential file's
   * `serviceKey`, else `EKM_SERVICE_KEY`. A login reply not signed by it is refused (`EKM_SERVICE_UNTRUSTED`).
   */
  readonly serviceKey?: string;
  /** NATS user and password (least-privilege accounts, infra/nats/). Default: from `natsCredentials`. */
  readonly user?: string;
  readonly pass?: string;
  /**
   * Path of a NATS credentials file (JSON `{user, password, inboxPrefix}`, mode 0600, written by
   * `npm run up` as `.ekm/nats/client.json`). Default `EKM_NATS_CREDENTIALS`. Sets user, password and
   * the inbox prefix (NATS lets this identity read only its own inbox).
   */
  readonly natsCredentials?: string;
  /** TLS to NATS: CA file to trust, and an optional client certificate and key. Default `EKM_NATS_TLS_CA` / `_CERT` / `_KEY`. */
  readonly tls?: NatsTlsFiles;
}

/** Options of {@link EkmClient.fromConnection}: a service calling another over its own connection. */
export interface ConnectionClientOptions extends Pick<EkmClientOptions, 'timeoutMs' | 'maxAttempts' | 'credentials' | 'serviceKey'> {
  /**
   * The development principal claim sent as `Ekm-Principal` (e.g. `service:rotation`): honoured only
   * by services running with EKM_AUTH=disabled, where nothing is signed; with a signer the session
   * names the principal and the responder ignores the claim.
   */
  readonly principalClaim?: string;
  /**
   * The deadline (epoch ms) of the request this service is serving, read at each call (service-kit's
   * `requestDeadline`): a call made while serving a request carries what is left of it, never more.
   */
  readonly deadline?: () => number | undefined;
}

/** Per-call options. */
export interface CallOptions {
  readonly timeoutMs?: number;
  readonly maxAttempts?: number;
  /**
   * Idempotency key, sent as the `Ekm-Request-Id` header and used by mutating operations as their
   * command id: every retry of one call carries the same key, so a retried mutation happens once.
   * Default: a random UUID per call.
   */
  readonly requestId?: string;
  /**
   * Epoch ms after which the caller no longer waits: no attempt starts after it, each attempt's timeout
   * is cut to what is left, and it travels as `Ekm-Timeout-Ms`, the milliseconds left (services refuse a passed one with
   * `EKM_DEADLINE_EXCEEDED`). Without it each attempt's deadline is its own timeout from now.
   */
  readonly deadline?: number;
}

/** The low-level bus client: `call(service, operation, body)` with per-attempt timeouts, retries of retriable codes under one `requestId`, and request signing. Most callers use the `Ekm` facade instead. */
/** The SDK's tracer, resolved per call so a provider registered after import is used. */
const clientTracer = (): Tracer => trace.getTracer('@ekm/client');

export class EkmClient {
  private constructor(
    private readonly nc: NatsConnection,
    private readonly options: Required<Pick<EkmClientOptions, 'timeoutMs' | 'maxAttempts'>>,
    private readonly ownsConnection: boolean,
    private readonly signer?: SessionSigner,
    private readonly principalClaim?: string,
    private readonly servedDeadline?: () => number | undefined,
  ) {}

  /** Connects to the bus. Close with {@link EkmClient.close}. */
  static async connect(options: EkmClientOptions = {}): Promise<EkmClient> {
    const nc = await connect({
      name: options.name ?? 'ekm-client',
      ...(options.connectTimeoutMs !== undefined ? { timeout: options.connectTimeoutMs } : {}),
      ...natsConnectOptions(options),
    });
    let signer: SessionSigner | undefined;
    try {
      signer = signerFor(nc, options.credentials ?? (process.env.EKM_CREDENTIALS || undefined), options.timeoutMs, options.serviceKey ?? (process.env.EKM_SERVICE_KEY || undefined));
    } catch (err) {
      await nc.close();
      throw err;
    }
    return new EkmClient(nc, { timeoutMs: options.timeoutMs ?? 5000, maxAttempts: options.maxAttempts ?? 3 }, true, signer);
  }

  /**
   * Wraps an existing connection (the caller keeps ownership). Services call each other this way, with
   * their `SessionSigner` (`serviceSigner` of @ekm/auth) as `credentials`, so every signed request on the
   * bus is built here and nowhere else.
   */
  static fromConnection(nc: NatsConnection, options: ConnectionClientOptions = {}): EkmClient {
    return new EkmClient(nc, { timeoutMs: options.timeoutMs ?? 5000, maxAttempts: options.maxAttempts ?? 3 }, false, signerFor(nc, options.credentials, options.timeoutMs, options.serviceKey), options.principalClaim, options.deadline);
  }

  /**
   * Sends `body` to `ekm.v1.<service>.<operation>` and returns the reply's `data`.
   * @throws EkmError with the service's code, `EKM_TIMEOUT` after the last attempt timed out,
   *   `EKM_UNAVAILABLE` when no responder is subscribed, or `EKM_RATE_LIMITED` (with `retryAfterMs`)
   *   when the caller stayed over its rate limit through every attempt, `EKM_DEADLINE_EXCEEDED` when
   *   the deadline (`opts.deadline`, or the served request's) passed before an attempt could start.
   */
  async call<T>(service: ServiceName, operation: Operation<ServiceName>, body: unknown, opts: CallOptions = {}): Promise<T> {
    const subj = subject(service, operation as never);
    const requestId = opts.requestId ?? randomUUID();
    const attempts = opts.maxAttempts ?? this.options.maxAttempts;
    const deadline = earliest(opts.deadline, this.servedDeadline?.());
    let last: EkmError | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const timeoutMs = opts.timeoutMs ?? this.options.timeoutMs;
      const left = deadline === undefined ? timeoutMs : deadline - Date.now();
      // Retries that ran out of time end with their own failure, which says more than the deadline.
      if (left <= 0 && last) throw last;
      if (left <= 0) throw new EkmError({ code: BusErrorCode.DeadlineExceeded, message: `the deadline of the call on ${subj} passed before attempt ${attempt}; it was not sent` });
      try {
        return await this.once<T>(subj, body, requestId, Math.min(timeoutMs, left));
      } catch (err) {
        if (!(err instanceof EkmError) || !err.retriable || attempt === attempts) throw err;
        const delay = retryDelayMs(err, attempt);
        if (delay === undefined) throw err;
        last = err;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    throw last ?? new EkmError({ code: BusErrorCode.Internal, message: 'unreachable' });
  }

  /**
   * One attempt as a CLIENT span (a no-op without an OpenTelemetry SDK in the process) whose W3C
   * `traceparent` travels in the request headers, so the services' spans join the caller's trace.
   */
  private once<T>(subj: string, body: unknown, requestId: string, timeoutMs: number, renewed = false): Promise<T> {
    const span = clientTracer().startSpan(subj, { kind: SpanKind.CLIENT, attributes: { 'messaging.system': 'nats', 'messaging.destination.name': subj, 'messaging.operation.type': 'send' } });
    const ctx = trace.setSpan(context.active(), span);
    return context.with(ctx, () => this.attempt<T>(subj, body, requestId, timeoutMs, renewed)).then(
      (v) => { span.end(); return v; },
      (err: unknown) => {
        // the error's code only: messages may echo input
        span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof EkmError ? err.code : 'error' });
        span.end();
        throw err;
      },
    );
  }

  private async attempt<T>(subj: string, body: unknown, requestId: string, timeoutMs: number, renewed: boolean): Promise<T> {
    const h = natsHeaders();
    propagation.inject(context.active(), h, { set: (carrier, key, value) => carrier.set(key, value) });
    h.set(REQUEST_ID_HEADER, requestId);
    // This attempt's remaining time (already cut to the call's deadline by `call`), relative so that
    // clock skew between caller and service does not matter.
    h.set(DEADLINE_HEADER, String(Math.max(0, Math.floor(timeoutMs))));
    if (this.principalClaim !== undefined) h.set(DEV_PRINCIPAL_HEADER, this.principalClaim);
    // The signed bytes must be exactly the sent bytes; each attempt gets a fresh nonce and timestamp.
    // With a session the body is sealed (docs/auth.md §4a): nothing in it is readable on the bus.
    let bytes: Uint8Array = new TextEncoder().encode(JSON.stringify(body ?? {}));
    let sealKey: Buffer | undefined;
    // The login subjects take no session (their body carries its own proof): sent as they are.
    if (this.signer && subj !== LOGIN_SUBJECT && subj !== SIGV4_LOGIN_SUBJECT) {
      const sealed = await this.signer.sealAndSign(subj, requestId, bytes);
      for (const [k, v] of Object.entries(sealed.headers)) h.set(k, v);
      h.set(SEAL_HEADER, SEAL_VERSION);
      bytes = sealed.body;
      sealKey = sealed.sealKey;
    }
    let msg;
    try {
      msg = await this.nc.request(subj, bytes, { timeout: timeoutMs, headers: h });
    } catch (err) {
      throw toTransportError(err, subj, timeoutMs);
    }
    const reply = sealKey ? openReply(sealKey, subj, requestId, msg) : parseReply(() => msg.json<unknown>());
    if (!isReply(reply)) throw new EkmError({ code: BusErrorCode.Internal, message: `malformed reply on ${subj}` });
    if (!reply.ok) {
      // A session the services no longer accept (expired early by a secret change, revoked session): log in once more.
      const reason = reply.error.details?.reason;
      if (this.signer && !renewed && reply.error.code === BusErrorCode.Unauthenticated && (reason === 'SESSION_EXPIRED' || reason === 'SESSION_INVALID')) {
        this.signer.invalidate();
        return this.once<T>(subj, body, requestId, timeoutMs, true);
      }
      throw new EkmError(reply.error);
    }
    return reply.data as T;
  }

  /** The underlying NATS connection (for JetStream consumers of event streams). */
  get connection(): NatsConnection {
    return this.nc;
  }

  async close(): Promise<void> {
    if (this.ownsConnection) await this.nc.drain();
  }
}

const earliest = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined ? b : b === undefined ? a : Math.min(a, b));

function parseReply(read: () => unknown): unknown {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/**
 * The reply to a sealed request: it must open under the session for this subject and request id. Only a
 * refusal (`ok: false`, e.g. EKM_UNAUTHENTICATED before the service knew the session) may come unsealed;
 * an unsealed or unopenable success is a forged reply and is refused.
 */
function openReply(sealKey: Buffer, subj: string, requestId: string, msg: { headers?: { has(k: string): boolean; get(k: string): string }; data: Uint8Array; json<T>(): T }): unknown {
  const untrusted = (why: string): EkmError => new EkmError({ code: BusErrorCode.ServiceUntrusted, message: `reply on ${subj} refused: ${why}` });
  if (msg.headers?.has(SEAL_HEADER) && msg.headers.get(SEAL_HEADER) === SEAL_VERSION) {
    let plain: Buffer;
    try {
      plain = openBody(sealKey, 'reply', subj, requestId, msg.data);
    } catch {
      throw untrusted('it is not sealed under this session for this request (a rogue responder?)');
    }
    return parseReply(() => JSON.parse(plain.toString('utf8')) as unknown);
  }
  const reply = parseReply(() => msg.json<unknown>());
  if (isReply(reply) && reply.ok) throw untrusted('an unsealed success reply to a sealed request (a rogue responder?)');
  return reply;
}

/**
 * The authentication hook of {@link EkmNatsTransport}: every request is checked by `@ekm/auth` before
 * its handler runs; a refusal is an `EKM_UNAUTHENTICATED` reply with `details.reason` (never a secret)
 * and an `AuthenticationFailed` event in the service's log. Handlers read the caller with
 * `principalOf(ctx)` or the `@AuthPrincipal()` parameter decorator.
 */
import { hostname } from 'node:os';
import { randomBytes, randomUUID } from 'node:crypto';
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { NatsContext } from '@nestjs/microservices';
import type { Msg, NatsConnection } from '@nats-io/transport-node';
import {
  AuthFailureReason as Reason, AuthFailureRecorder, NonceCache, RequestAuthenticator, resolveAuthSecret, RevocationList, RevocationListener, SessionSealer,
  type AuthenticatedPrincipal, type AuthFailureReason, type SharedNonceStore,
} from '@ekm/auth';
import type { ServiceConfig } from '@ekm/config';
import { BusErrorCode, DEFAULT_DEADLINE_MS, fail, isRequestId, REQUEST_ID_HEADER, type FailReply } from '@ekm/contracts';
import { eventStreamName, type EventStore } from '@ekm/event-store';
import type { Logger } from '@ekm/telemetry';

/**
 * What the transport knows of a request, built ONCE per message before any handler runs: its request
 * id (the caller's when it follows the rule, else a fresh one: the same id goes into the reply header,
 * logs and every record the request causes), the authenticated caller, and its trace.
 */
export interface RequestFacts {
  readonly requestId: string;
  /** W3C traceparent the caller sent, if any (recorded with the events the request causes). */
  readonly traceparent?: string;
  /** Trace id of the transport's SERVER span. */
  readonly traceId?: string;
  /** When the caller stops waiting (epoch ms): arrival plus its `Ekm-Timeout-Ms`, bounded, or the arrival plus the default. */
  readonly deadline?: number;
}

/** The Nest context of an EKM request: NatsContext plus the authenticated caller and the request's facts. */
export class EkmRequestContext extends NatsContext {
  readonly requestId: string;
  readonly traceparent?: string;
  readonly traceId?: string;
  /** Epoch ms after which nothing may be started for this request (`isPastDeadline`). */
  readonly deadline: number;

  /** `replySubject`: the request's reply inbox (lets a handler confine messages to the caller's own inbox). */
  constructor(
    args: ConstructorParameters<typeof NatsContext>[0], readonly principal: AuthenticatedPrincipal | null, readonly replySubject?: string,
    facts: RequestFacts = { requestId: requestIdFromHeaders(args[1] as HeaderLike | undefined) },
  ) {
    super(args);
    this.requestId = facts.requestId;
    if (facts.traceparent !== undefined) this.traceparent = facts.traceparent;
    if (facts.traceId !== undefined) this.traceId = facts.traceId;
    this.deadline = facts.deadline ?? Date.now() + DEFAULT_DEADLINE_MS;
  }
}

interface HeaderLike { has(k: string): boolean; get(k: string): string }

/** The caller's request id when it follows the one rule (REQUEST_ID_PATTERN), else a fresh UUID. */
export function requestIdFromHeaders(h: HeaderLike | undefined): string {
  const given = h?.has(REQUEST_ID_HEADER) ? h.get(REQUEST_ID_HEADER) : undefined;
  return isRequestId(given) ? given : randomUUID();
}

/**
 * The request id of `ctx`: the one the transport chose for this request (and put in the reply header).
 * A context the transport did not build (tests) gets one from its headers under the same rule.
 */
export function requestIdOf(ctx: NatsContext): string {
  if (ctx instanceof EkmRequestContext) return ctx.requestId;
  return requestIdFromHeaders(ctx.getHeaders() as HeaderLike | undefined);
}

/**
 * The authenticated caller of the request in `ctx` (`@Ctx() ctx: NatsContext`).
 * @throws Error when the request was not authenticated (the login subject, or a transport without auth).
 */
export function principalOf(ctx: NatsContext): AuthenticatedPrincipal {
  const p = ctx instanceof EkmRequestContext ? ctx.principal : null;
  if (!p) throw new Error(`no authenticated principal on ${ctx.getSubject()}`);
  return p;
}

/** Parameter decorator: `handle(@Payload() body, @AuthPrincipal() caller: AuthenticatedPrincipal)`. */
export const AuthPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): AuthenticatedPrincipal => principalOf(ctx.switchToRpc().getContext<NatsContext>()));

/** Outcome of {@link TransportAuth.check}. */
export type AuthCheck = { readonly ok: true; readonly principal: AuthenticatedPrincipal | null; readonly sessionKey?: Buffer } | { readonly ok: false; readonly reply: FailReply };

const MESSAGES: Readonly<Record<AuthFailureReason, string>> = {
  MISSING_CREDENTIALS: 'the request is not signed: log in and send Ekm-Session, Ekm-Timestamp, Ekm-Nonce and Ekm-Signature',
  MALFORMED_CREDENTIALS: 'an authentication header is malformed',
  SESSION_INVALID: 'the session token was not issued by this EKM deployment; log in again',
  SESSION_EXPIRED: 'the session has expired; log in again',
  SESSION_REVOKED: 'the session was revoked',
  PRINCIPAL_REVOKED: 'the principal was revoked',
  CREDENTIAL_REVOKED: 'the credential this session was opened with was revoked; log in with a current credential',
  SIGNATURE_INVALID: 'the request signature does not match its subject, body, timestamp and nonce',
  TIMESTAMP_SKEW: 'Ekm-Timestamp is more than 30 s away from the service clock',
  REPLAYED: 'this nonce was already used in this session',
  REPLAY_CACHE_FULL: 'the service cannot check for replays right now; retry later',
  REPLAY_STORE_UNAVAILABLE: 'the service cannot check for replays right now (its nonce store is unavailable); retry later',
  PRINCIPAL_UNKNOWN: 'unknown principal or credential, or wrong proof',
  LOGIN_PROOF_INVALID: 'unknown principal or credential, or wrong proof',
  ACCESS_KEY_UNKNOWN: 'the access key id is not known to this EKM deployment',
  ACCESS_KEY_REVOKED: 'the access key was deleted or its principal revoked',
};

/**
 * Builds the reply of a refusal: `EKM_UNAUTHENTICATED`, except when the service itself cannot check for
 * replays (nonce store down, cache full): that is the service's fault, not the caller's, so it is the
 * retriable `EKM_UNAVAILABLE` (still refused: fail closed), and an SDK retries rather than logging in again.
 */
export function unauthenticated(reason: AuthFailureReason): FailReply {
  const code = reason === 'REPLAY_STORE_UNAVAILABLE' || reason === 'REPLAY_CACHE_FULL' ? BusErrorCode.Unavailable : BusErrorCode.Unauthenticated;
  return fail(code, MESSAGES[reason], { reason });
}

/** Per-process authentication state: authenticator, revocation feed, failure recorder. */
export class TransportAuth {
  private recorder: AuthFailureRecorder | null = null;
  private storeResolver: (() => EventStore | null) | null = null;
  private nonceResolver: (() => SharedNonceStore | null) | null = null;
  private nonceStore: SharedNonceStore | null = null;
  private listener: RevocationListener | null = null;
  private replayTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  readonly streamId: string;

  constructor(
    readonly authenticator: RequestAuthenticator,
    private readonly service: string,
    private readonly logger: Logger,
    private readonly revocations?: RevocationList,
    /** How far back revocations are replayed at start: the longest session lifetime plus skew. */
    private readonly replayWindowMs = 0,
    instanceId = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`,
  ) {
    this.streamId = `auth-failures-${instanceId}`;
  }

  /** From the service config: mode, secret (EKM_AUTH_SECRET or the development file), session lifetime. */
  static fromConfig(config: ServiceConfig, logger: Logger): TransportAuth {
    if (config.auth === 'disabled') {
      logger.warn({ event: 'auth-disabled' }, 'EKM_AUTH=disabled: requests are NOT authenticated (development only)');
      return new TransportAuth(new RequestAuthenticator({ mode: 'disabled' }), config.service, logger);
    }
    const sealer = new SessionSealer(resolveAuthSecret({ ...(config.authSecret !== undefined ? { secret: config.authSecret } : {}), env: config.env, dataDir: config.dataDir }));
    const revocations = new RevocationList(config.sessionTtlMs + 60_000);
    const authenticator = new RequestAuthenticator({ mode: 'required', sealer, revocations, nonces: new NonceCache() });
    return new TransportAuth(authenticator, config.service, logger, revocations, config.sessionTtlMs + 60_000);
  }

  /**
   * Subscribes to revocation events, then replays the revocations of the last session lifetime (+ skew)
   * from `EKM_POLICY_EVENTS`, before the transport serves: a restarted replica must not accept a session
   * revoked while it was down. If the replay fails (JetStream unavailable) the service still starts, logs
   * it, and retries every 5 s in the background until it succeeds.
   */
  async start(nc: NatsConnection): Promise<void> {
    if (!this.revocations) return;
    this.listener = new RevocationListener(nc, this.revocations, this.logger);
    await this.listener.start();
    if (!(await this.replayOnce())) this.retryReplay();
  }

  stop(): void {
    this.stopped = true;
    if (this.replayTimer) clearTimeout(this.replayTimer);
    this.listener?.stop();
  }

  private async replayOnce(): Promise<boolean> {
    const listener = this.listener;
    if (!listener || this.stopped) return true;
    try {
      const added = await withTimeout(listener.replay(eventStreamName('policy'), this.replayWindowMs), 10_000);
      this.logger.info({ event: 'revocations-replayed', added, windowMs: this.replayWindowMs }, 'revocations replayed from EKM_POLICY_EVENTS');
      return true;
    } catch (err) {
      this.logger.warn({ event: 'revocations-not-replayed', err: err instanceof Error ? err.message : String(err) },
        'could not replay revocations from EKM_POLICY_EVENTS; live revocations are applied, older ones only once the replay succeeds (retrying every 5 s)');
      return false;
    }
  }

  private retryReplay(): void {
    if (this.stopped) return;
    this.replayTimer = setTimeout(() => {
      void this.replayOnce().then((done) => {
        if (!done) this.retryReplay();
      });
    }, 5_000);
    this.replayTimer.unref();
  }

  /** Where failures go: the service's event store, found lazily (services without an event log only log). */
  useEventStore(resolve: () => EventStore | null): void {
    this.storeResolver = resolve;
  }

  /**
   * Where accepted nonces are claimed for every replica and across restarts (the service's Postgres,
   * EventLogModule's NONCE_STORE), found lazily. Without one (no event log) only this replica's memory
   * guards against replays; that is logged once.
   */
  useNonceStore(resolve: () => SharedNonceStore | null): void {
    this.nonceResolver = resolve;
  }

  private sharedNonces(): SharedNonceStore | null {
    if (this.nonceStore || !this.nonceResolver) return this.nonceStore;
    this.nonceStore = this.nonceResolver();
    if (!this.nonceStore && this.authenticator.mode === 'required') {
      this.logger.warn({ event: 'replay-guard-local' }, 'no shared nonce store (no event log): replays are refused per replica only, not across replicas or restarts');
    }
    this.nonceResolver = null;
    return this.nonceStore;
  }

  /** Flushes pending failure records (tests, shutdown). */
  async flush(): Promise<void> {
    await this.recorder?.flush();
  }

  /** Authenticates `msg`; a signed request's nonce is then claimed in the shared store (one batched round trip). */
  async check(msg: Msg, requestId: string): Promise<AuthCheck> {
    const h = msg.headers;
    const r = this.authenticator.authenticate({ subject: msg.subject, body: msg.data, header: (n) => (h?.has(n) ? h.get(n) : undefined) });
    if (!r.ok) return this.refuse(msg.subject, r.reason, requestId, r.principalClaimed);
    const shared = r.nonce !== undefined ? this.sharedNonces() : null;
    if (shared && r.nonce) {
      const claim = await shared.claim(r.nonce);
      if (claim === 'replayed') return this.refuse(msg.subject, Reason.Replayed, requestId, r.principal?.principalId);
      if (claim === 'unavailable') return this.refuse(msg.subject, Reason.ReplayStoreUnavailable, requestId, r.principal?.principalId);
    }
    return { ok: true, principal: r.principal, ...(r.sessionKey !== undefined ? { sessionKey: r.sessionKey } : {}) };
  }

  private refuse(subject: string, reason: AuthFailureReason, requestId: string, principalClaimed: string | undefined): AuthCheck {
    this.record({ subject, reason, requestId, ...(principalClaimed !== undefined ? { principalClaimed } : {}) });
    return { ok: false, reply: unauthenticated(reason) };
  }

  private record(f: { subject: string; reason: AuthFailureReason; requestId: string; principalClaimed?: string }): void {
    this.logger.warn({ event: 'authentication-failed', subject: f.subject, reason: f.reason, principalClaimed: f.principalClaimed, requestId: f.requestId }, 'request refused: not authenticated');
    const recorder = this.recorderNow();
    recorder?.record({
      subject: f.subject, reason: f.reason, service: this.service, at: new Date().toISOString(),
      ...(f.principalClaimed !== undefined ? { principalClaimed: f.principalClaimed } : {}),
      ...(isRequestId(f.requestId) ? { requestId: f.requestId } : {}),
    });
  }

  private recorderNow(): AuthFailureRecorder | null {
    if (this.recorder || !this.storeResolver) return this.recorder;
    const store = this.storeResolver();
    if (store) this.recorder = new AuthFailureRecorder(store, this.streamId, this.logger);
    else this.storeResolver = null; // no event log in this app: failures are logged only
    return this.recorder;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

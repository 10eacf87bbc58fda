/**
 * The rate-limit hook of {@link EkmNatsTransport} (docs/rate-limits.md): after authentication and
 * before the body is parsed, each request takes a token from its principal's bucket and, when a tenant
 * limit is set, from its tenant's bucket. A refusal is an `EKM_RATE_LIMITED` reply with
 * `details.retryAfterMs`; it costs two map operations, touches no database and runs no handler.
 */
import type { AuthenticatedPrincipal } from '@ekm/auth';
import type { ServiceConfig } from '@ekm/config';
import { BusErrorCode, fail, type FailReply } from '@ekm/contracts';
import type { Logger } from '@ekm/telemetry';
import { KeyedBuckets, DEFAULT_MAX_BUCKETS } from './keyed-buckets';
import type { RequestMetrics } from './metrics';
import type { BucketLimits } from './token-bucket';

/** Which bucket refused: the caller's own, or its tenant's. */
export type RateLimitScope = 'principal' | 'tenant';

/** Options of {@link RequestRateLimit}. A scope without limits is not limited. */
export interface RequestRateLimitOptions {
  readonly service: string;
  readonly principal?: BucketLimits;
  readonly tenant?: BucketLimits;
  readonly logger: Logger;
  readonly metrics?: RequestMetrics;
  /** Buckets kept per scope before the least recently used is dropped. Default 100,000. */
  readonly maxBuckets?: number;
  /** Milliseconds of a monotonic clock. Default `performance.now`. */
  readonly clock?: () => number;
}

/**
 * Services calling services (keys → policy Decide, rotation → keys) carry every user's traffic under
 * one `service:<name>` principal; limiting them would let one noisy user starve all the others at the
 * second hop. Only the shared secret mints these sessions: login-issued principal ids are `p-…`.
 */
export function isServicePrincipal(p: AuthenticatedPrincipal): boolean {
  return p.principalId.startsWith('service:') && p.roles.includes('service');
}

/** The operator scope `*` (and every caller in EKM_AUTH=disabled) is not a tenant: no tenant bucket. */
const OPERATOR_TENANT = '*';

export class RequestRateLimit {
  private readonly principals: KeyedBuckets | null;
  private readonly tenants: KeyedBuckets | null;
  private readonly clock: () => number;

  constructor(private readonly opts: RequestRateLimitOptions) {
    const max = opts.maxBuckets ?? DEFAULT_MAX_BUCKETS;
    this.principals = opts.principal ? new KeyedBuckets(opts.principal, max) : null;
    this.tenants = opts.tenant ? new KeyedBuckets(opts.tenant, max) : null;
    this.clock = opts.clock ?? (() => performance.now());
  }

  /** From EKM_RATE_LIMIT_*; null when both scopes are disabled (0). */
  static fromConfig(config: ServiceConfig, logger: Logger, metrics?: RequestMetrics): RequestRateLimit | null {
    const { principal, tenant } = config.rateLimit;
    if (!principal && !tenant) return null;
    return new RequestRateLimit({ service: config.service, logger, ...(principal ? { principal } : {}), ...(tenant ? { tenant } : {}), ...(metrics ? { metrics } : {}) });
  }

  /** Buckets held now, per scope (memory bound checks). */
  get bucketCount(): { readonly principal: number; readonly tenant: number } {
    return { principal: this.principals?.size ?? 0, tenant: this.tenants?.size ?? 0 };
  }

  /**
   * Admits or refuses one request of `principal` on `operation` (the last subject token, a metric
   * label). Returns null when admitted. The principal bucket is charged first, so a principal refused
   * by its own limit does not spend its tenant's budget.
   */
  admit(principal: AuthenticatedPrincipal, operation: string): FailReply | null {
    if (isServicePrincipal(principal)) return null;
    const now = this.clock();
    if (this.principals) {
      const r = this.principals.take(principal.principalId, now);
      if (!r.ok) return this.refuse('principal', principal.principalId, this.principals.limits, operation, r.retryAfterMs, r.report?.refused);
    }
    if (this.tenants && principal.tenant !== OPERATOR_TENANT) {
      const r = this.tenants.take(principal.tenant, now);
      if (!r.ok) return this.refuse('tenant', principal.tenant, this.tenants.limits, operation, r.retryAfterMs, r.report?.refused);
    }
    return null;
  }

  private refuse(scope: RateLimitScope, id: string, limits: BucketLimits, operation: string, retryAfterMs: number, reported: number | undefined): FailReply {
    this.opts.metrics?.countRateLimited(operation, scope);
    // At most one line per principal (tenant) per minute, with the refusals since the last one.
    if (reported !== undefined) {
      this.opts.logger.warn({ event: 'rate-limited', scope, [scope === 'principal' ? 'principalId' : 'tenant']: id, operation, refused: reported, ratePerSecond: limits.ratePerSecond, burst: limits.burst }, `requests refused: ${scope} over its rate limit`);
    }
    return fail(
      BusErrorCode.RateLimited,
      `${scope} ${id} is over its rate limit on the ${this.opts.service} service (${limits.ratePerSecond} requests/s, burst ${limits.burst}); retry after ${retryAfterMs} ms`,
      { scope, retryAfterMs, ratePerSecond: limits.ratePerSecond, burst: limits.burst },
    );
  }
}

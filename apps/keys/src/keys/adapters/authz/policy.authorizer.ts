/**
 * EKM_AUTHZ=policy: asks the policy service's Decide (`ekm.v1.policy.decide`) and caches the answer
 * per (principal, action, resource, context). Every replica subscribes (core NATS, no queue group) to
 * `ekm.events.policy.>`, where the policy service's outbox relay publishes each committed change, and
 * clears its cache on any of them: a policy change reaches every cache within one publish (< 1 s).
 * The key's aliases are added to the resource from the (cached) key state so `alias/...` statements
 * match. The policy service unreachable → DependencyUnavailableError (EKM_UNAVAILABLE), never an allow.
 */
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { SessionSigner } from '@ekm/auth';
import { EkmClient, EkmError, PolicyClient } from '@ekm/client';
import { BusErrorCode } from '@ekm/contracts';
import { requestDeadline } from '@ekm/service-kit';
import { DependencyUnavailableError } from '../../application/dependency-unavailable';
import type { AuthorizationDecision, AuthorizationRequest, Authorizer, KeyStateReader } from '../../application/ports';
import { DecisionCache, decisionKey, type DecisionCacheOptions } from './decision-cache';
import { isBuiltInServiceGrant } from './service-grants';

export const POLICY_EVENTS_SUBJECT = 'ekm.events.policy.>';
const NO_ALIASES: readonly string[] = [];

/** What Decide is asked about, without the alias set (sent as a list). */
function resourceFacts(r: AuthorizationRequest['resource']): { keyId?: string; tenant?: string; tags?: Readonly<Record<string, string>> } {
  return { ...(r.keyId !== undefined ? { keyId: r.keyId } : {}), ...(r.tenant !== undefined ? { tenant: r.tenant } : {}), ...(r.tags !== undefined ? { tags: r.tags } : {}) };
}
/** Decide refused the facts themselves (e.g. a context value longer than its rule): no retry can change that. */
const DECIDE_INPUT_REFUSALS: ReadonlySet<string> = new Set([BusErrorCode.Validation, BusErrorCode.MalformedRequest, BusErrorCode.PayloadTooLarge]);

export interface PolicyAuthorizerOptions extends DecisionCacheOptions {
  /** Signs Decide requests (EKM_AUTH=required: the keys service's minted `service:keys` session). */
  readonly signer?: SessionSigner;
  readonly timeoutMs?: number;
  readonly logger?: { warn(obj: object, msg?: string): void };
}

export class PolicyAuthorizer implements Authorizer {
  readonly cache: DecisionCache;
  private sub: Subscription | null = null;
  private readonly inFlight = new Map<string, Promise<AuthorizationDecision>>();
  // The SDK's client on the service's own connection: it signs, sets the request id and classifies
  // transport failures. One attempt: an unanswered Decide fails this call closed, the caller retries.
  private readonly policy: PolicyClient;

  constructor(
    private readonly nc: NatsConnection,
    private readonly reader: KeyStateReader,
    private readonly opts: PolicyAuthorizerOptions = {},
  ) {
    this.cache = new DecisionCache(opts);
    this.policy = new PolicyClient(EkmClient.fromConnection(nc, {
      timeoutMs: opts.timeoutMs ?? 2000, maxAttempts: 1, deadline: requestDeadline, ...(opts.signer ? { credentials: opts.signer } : {}),
    }));
  }

  /** Subscribes to policy events and flushes, so changes committed after this resolves are seen. */
  async start(): Promise<void> {
    if (this.sub) return;
    this.sub = this.nc.subscribe(POLICY_EVENTS_SUBJECT, {
      callback: (err) => (err ? this.opts.logger?.warn({ err: err.message }, 'policy event subscription error') : this.invalidate()),
    });
    await this.nc.flush();
  }

  stop(): void {
    if (this.sub && !this.sub.isClosed()) this.sub.unsubscribe();
    this.sub = null;
  }

  invalidate(): void {
    this.cache.clear();
    this.inFlight.clear();
  }

  async authorize(req: AuthorizationRequest): Promise<AuthorizationDecision> {
    if (isBuiltInServiceGrant(req.principal, req.action)) return { allowed: true };
    // The access step passes the aliases of the state it loaded; only a caller without them costs a read.
    const held = req.resource.aliases ?? (req.resource.keyId !== undefined ? (await this.reader.load(req.resource.keyId))?.aliases : undefined);
    const aliases = held === undefined || held.size === 0 ? NO_ALIASES : [...held];
    const key = decisionKey(req, aliases);
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const shared = this.inFlight.get(key);
    if (shared !== undefined) return shared;
    const generation = this.cache.generation;
    const p = this.ask(req, aliases).then((d) => {
      this.cache.set(key, d, generation);
      return d;
    }).finally(() => {
      if (this.inFlight.get(key) === p) this.inFlight.delete(key);
    });
    this.inFlight.set(key, p);
    return p;
  }

  private async ask(req: AuthorizationRequest, aliases: readonly string[]): Promise<AuthorizationDecision> {
    let d;
    try {
      d = await this.policy.decide({
        principalId: req.principal, action: req.action,
        resource: { ...resourceFacts(req.resource), ...(aliases.length > 0 ? { aliases: [...aliases] } : {}) },
        ...(req.encryptionContext !== undefined ? { encryptionContext: { ...req.encryptionContext } } : {}),
      });
    } catch (err) {
      if (err instanceof EkmError) {
        this.opts.logger?.warn({ code: err.code, err: err.message }, 'policy decide failed');
        // Invalid facts are a deny (default deny, audited), not "policy unavailable".
        if (DECIDE_INPUT_REFUSALS.has(err.code)) return { allowed: false, reason: `the policy service cannot decide on this request: ${err.message}` };
        if (err.code === BusErrorCode.Unauthenticated) this.opts.signer?.invalidate();
      } else {
        this.opts.logger?.warn({ err: err instanceof Error ? err.message : String(err) }, 'policy decide failed');
      }
      throw new DependencyUnavailableError('policy service');
    }
    if (d.allowed === true) return { allowed: true };
    return { allowed: false, reason: typeof d.reason === 'string' ? d.reason : 'denied by policy' };
  }
}

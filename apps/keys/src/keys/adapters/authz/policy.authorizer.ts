/**
 * EKM_AUTHZ=policy: asks the policy service's Decide (`ekm.v1.policy.decide`) and caches the answer
 * per (principal, action, resource, context). Every replica subscribes (core NATS, no queue group) to
 * `ekm.events.policy.>`, where the policy service's outbox relay publishes each committed change, and
 * clears its cache on any of them: a policy change reaches every cache within one publish (< 1 s).
 * The key's aliases are added to the resource from the (cached) key state so `alias/...` statements
 * match. The policy service unreachable → DependencyUnavailableError (EKM_UNAVAILABLE), never an allow.
 */
import { headers as natsHeaders, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { SessionSigner } from '@ekm/auth';
import { isReply, REQUEST_ID_HEADER, subject } from '@ekm/contracts';
import { withClientSpan } from '@ekm/telemetry';
import { DependencyUnavailableError } from '../../application/crypto/usage-run';
import type { AuthorizationDecision, AuthorizationRequest, Authorizer, KeyStateReader } from '../../application/ports';
import { DecisionCache, decisionKey, type DecisionCacheOptions } from './decision-cache';
import { isBuiltInServiceGrant } from './service-grants';

export const POLICY_EVENTS_SUBJECT = 'ekm.events.policy.>';
const DECIDE_SUBJECT = subject('policy', 'decide');

export interface PolicyAuthorizerOptions extends DecisionCacheOptions {
  /** Signs Decide requests (EKM_AUTH=required: the keys service's minted `service:keys` session). */
  readonly signer?: SessionSigner;
  readonly timeoutMs?: number;
  readonly logger?: { warn(obj: object, msg?: string): void };
}

interface DecideReply { allowed: boolean; policyId?: string; statementId?: string; reason: string }

export class PolicyAuthorizer implements Authorizer {
  readonly cache: DecisionCache;
  private sub: Subscription | null = null;
  private readonly inFlight = new Map<string, Promise<AuthorizationDecision>>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly reader: KeyStateReader,
    private readonly opts: PolicyAuthorizerOptions = {},
  ) {
    this.cache = new DecisionCache(opts);
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
    const aliases = req.resource.keyId !== undefined ? [...((await this.reader.load(req.resource.keyId))?.aliases ?? [])] : [];
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

  private async ask(req: AuthorizationRequest, aliases: string[]): Promise<AuthorizationDecision> {
    const body = new TextEncoder().encode(JSON.stringify({
      principalId: req.principal, action: req.action,
      resource: { ...req.resource, ...(aliases.length > 0 ? { aliases } : {}) },
      ...(req.encryptionContext !== undefined ? { encryptionContext: req.encryptionContext } : {}),
    }));
    let reply: unknown;
    try {
      // A CLIENT span whose traceparent goes in the headers: the decision joins the caller's trace.
      reply = await withClientSpan(DECIDE_SUBJECT, async (h) => {
        h.set(REQUEST_ID_HEADER, `authz-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`);
        if (this.opts.signer) for (const [k, v] of Object.entries(await this.opts.signer.sign(DECIDE_SUBJECT, body))) h.set(k, v as string);
        return (await this.nc.request(DECIDE_SUBJECT, body, { timeout: this.opts.timeoutMs ?? 2000, headers: h })).json();
      });
    } catch (err) {
      this.opts.logger?.warn({ err: err instanceof Error ? err.message : String(err) }, 'policy decide failed');
      throw new DependencyUnavailableError('policy service');
    }
    if (!isReply(reply)) throw new DependencyUnavailableError('policy service');
    if (!reply.ok) {
      this.opts.logger?.warn({ code: reply.error.code }, 'policy decide refused');
      if (reply.error.code === 'EKM_UNAUTHENTICATED') this.opts.signer?.invalidate();
      throw new DependencyUnavailableError('policy service');
    }
    const d = reply.data as DecideReply;
    if (d.allowed === true) return { allowed: true };
    return { allowed: false, reason: typeof d.reason === 'string' ? d.reason : 'denied by policy' };
  }
}

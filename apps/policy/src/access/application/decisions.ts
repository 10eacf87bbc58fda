/**
 * Decide and Simulate against this replica's in-memory snapshot. The principal's tenant, roles and
 * status come from the directory, never from the request: a caller cannot claim another tenant.
 */
import { evaluate, simulate, type Decision, type ResourceFacts, type TracedDecision } from '@ekm/policy-engine';
import type { AccessDirectory } from './access.ports';

export interface DecideInput {
  readonly principalId: string;
  readonly action: string;
  readonly resource: ResourceFacts;
  readonly encryptionContext?: Readonly<Record<string, string>>;
  /** Simulate only: evaluate at another time (time conditions). */
  readonly now?: string;
}

export class Decisions {
  constructor(private readonly directory: AccessDirectory, private readonly clock: () => string = () => new Date().toISOString()) {}

  decide(input: DecideInput): Decision {
    const { trace: _t, guard: _g, ...d } = this.run(input, false);
    return d;
  }

  simulate(input: DecideInput): TracedDecision {
    return this.run(input, true);
  }

  private run(input: DecideInput, traced: boolean): TracedDecision {
    const snap = this.directory.current();
    const p = snap.principals.get(input.principalId);
    if (p === undefined) return { allowed: false, reason: `principal ${input.principalId} is unknown`, trace: [] };
    const req = { principal: p, action: input.action, resource: input.resource, ...(input.encryptionContext ? { encryptionContext: input.encryptionContext } : {}), now: input.now ?? this.clock() };
    if (traced) return simulate(snap.policies, req);
    return { ...evaluate(snap.policies, req), trace: [] };
  }
}

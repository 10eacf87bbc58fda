/** `@ekm/policy-engine`: policy documents (zod schema) and the pure, deterministic evaluator. No I/O. */
export { OPERATOR_SCOPE } from './policy.types';
export type {
  Condition, Decision, DecisionRequest, Effect, Policy, PolicyDocument, PrincipalFacts, PrincipalStatus, ResourceFacts, Statement,
  StatementOutcome, TraceEntry, TracedDecision,
} from './policy.types';
export { ConditionSchema, PolicyDocumentSchema, StatementSchema, actionProblem, globMatch, KNOWN_ACTIONS, POLICY_ACTIONS } from '@ekm/contracts';
export { parsePolicyDocument, type ParsedPolicy } from './policy-document.schema';
export { PolicySet, evaluate, simulate } from './evaluate';

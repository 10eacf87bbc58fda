export * from './principal.types';
export { decidePrincipal, evolvePrincipal, foldPrincipal, initialPrincipal } from './principal.decide';
export {
  decidePolicy, evolvePolicy, foldPolicy, initialPolicy, type PolicyCommand, type PolicyDecision, type PolicyEvent, type PolicyRejection, type PolicyState,
} from './policy.decide';
export { canAdminister, type AdminScope } from './admin.rules';

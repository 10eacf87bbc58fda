/** DataPlaneSteps.admit: a deadline that passes while the authorizer decides stops the call before any side effect. */
import type { TenantSealGate } from '../tenants/tenant-seal.ports';
import { foldKeyEvents, type ExistingKeyState } from '../../domain';
import { active } from '../../domain/key.test-kit';
import type { Authorizer, KeyStateReader } from '../ports';
import type { BudgetRotation } from './budget-rotation';
import type { GcmCounterStore, KekSource } from './crypto.ports';
import { DataPlaneSteps } from './data-plane-steps';
import { GcmBudget } from './gcm-budget';
import { KeyAccess } from './key-access';

const state = foldKeyEvents([...active]) as ExistingKeyState;
const reader: KeyStateReader = { load: async () => state, resolve: async (r) => r, invalidate: () => undefined };
const counter = (): GcmCounterStore & { calls: number } => ({
  calls: 0,
  async reserve(this: { calls: number }, _k: string, _v: number, block: number) { this.calls++; return block; },
  async reserved() { return 0; },
});
const noKek: KekSource = { withKek: () => { throw new Error('the KEK must not be used'); } } as unknown as KekSource;
const noRotation = { request: () => Promise.resolve() } as unknown as BudgetRotation;
const ctx = { collection: 'docs' };
/** No tenant is sealed. */
const OPEN: TenantSealGate = { isSealed: () => false, invalidate: () => undefined };

describe('DataPlaneSteps.admit and the deadline', () => {
  it('a deadline that passes during authorization refuses before the GCM budget is touched', async () => {
    const deadline = Date.now() + 5;
    // The authorizer answers only once the deadline has passed (a slow policy service).
    const slow: Authorizer = { authorize: async () => { while (Date.now() <= deadline) await new Promise((r) => setImmediate(r)); return { allowed: true }; } };
    const store = counter();
    const steps = new DataPlaneSteps(new KeyAccess(reader, slow, OPEN), noKek, new GcmBudget(store, 1_000, 10, 0.75), noRotation);
    const r = await steps.begin(state.keyId, { requestId: 'r', principal: 'p', deadline }, { operation: 'Encrypt', context: ctx, spend: true });
    expect(r).toMatchObject({ ok: false, failure: { kind: 'DEADLINE_EXCEEDED', step: 'Encrypt' }, facts: { keyId: state.keyId } });
    expect(store.calls).toBe(0);
  });

  it('within the deadline the grant is given and one GCM invocation taken', async () => {
    const store = counter();
    const steps = new DataPlaneSteps(new KeyAccess(reader, { authorize: async () => ({ allowed: true }) }, OPEN), noKek, new GcmBudget(store, 1_000, 10, 0.75), noRotation);
    const r = await steps.begin(state.keyId, { requestId: 'r', principal: 'p', deadline: Date.now() + 60_000 }, { operation: 'Encrypt', context: ctx, spend: true });
    expect(r.ok).toBe(true);
    expect(store.calls).toBe(1);
  });
});

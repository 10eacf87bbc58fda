import fc from 'fast-check';
import {
  decideTenantSeal, evolveTenantSeal, foldTenantSeal, openTenant, type SealVerifier, type TenantSealCommand, type TenantSealState, type UnsealSecretCheck,
} from './tenant-seal';

const meta = { actor: 'op', now: '2026-12-07T00:00:00.000Z' };
const verifier: SealVerifier = { scheme: 'scrypt-hmac-v1', salt: 'c2FsdA', hash: 'aGFzaA' };
const seal = (v?: SealVerifier): TenantSealCommand => ({ type: 'SealTenant', data: { tenant: 't1', reason: 'incident', ...(v ? { verifier: v } : {}) }, meta });
const unseal = (secret: UnsealSecretCheck): TenantSealCommand => ({ type: 'UnsealTenant', data: { tenant: 't1', reason: 'resolved', secret }, meta });

function apply(state: TenantSealState, cmd: TenantSealCommand): TenantSealState {
  const d = decideTenantSeal(cmd, state);
  return d.ok ? d.events.reduce((s, e) => evolveTenantSeal(s, e, 'now'), state) : state;
}

describe('tenant seal decider', () => {
  it('seals an open tenant; the event records whether a secret is required but never more than the verifier', () => {
    const d = decideTenantSeal(seal(verifier), openTenant('t1'));
    expect(d).toEqual({ ok: true, events: [{ type: 'TenantSealed', data: { tenant: 't1', reason: 'incident', secretRequired: true, verifier }, meta }] });
    const plain = decideTenantSeal(seal(), openTenant('t1'));
    expect(plain.ok && plain.events[0]!.data).toEqual({ tenant: 't1', reason: 'incident', secretRequired: false });
  });

  it('refuses to seal a sealed tenant and to unseal an open one', () => {
    const sealed = apply(openTenant('t1'), seal());
    expect(decideTenantSeal(seal(), sealed)).toEqual({ ok: false, rejection: { code: 'TENANT_ALREADY_SEALED', tenant: 't1' } });
    expect(decideTenantSeal(unseal('absent'), openTenant('t1'))).toEqual({ ok: false, rejection: { code: 'TENANT_NOT_SEALED', tenant: 't1' } });
  });

  it('a tenant sealed with a secret unseals only with the matching secret', () => {
    const sealed = apply(openTenant('t1'), seal(verifier));
    expect(decideTenantSeal(unseal('absent'), sealed)).toEqual({ ok: false, rejection: { code: 'UNSEAL_SECRET_REQUIRED', tenant: 't1' } });
    expect(decideTenantSeal(unseal('differs'), sealed)).toEqual({ ok: false, rejection: { code: 'UNSEAL_SECRET_INVALID', tenant: 't1' } });
    const d = decideTenantSeal(unseal('matches'), sealed);
    expect(d.ok && d.events.map((e) => e.type)).toEqual(['TenantUnsealed']);
  });

  it('a tenant sealed without a secret unseals without one', () => {
    const sealed = apply(openTenant('t1'), seal());
    expect(decideTenantSeal(unseal('absent'), sealed).ok).toBe(true);
  });

  it('property: after any command sequence the state is Sealed exactly when the last accepted event sealed it, and fold equals the step-by-step state', () => {
    const cmd = fc.oneof(
      fc.boolean().map((withSecret) => seal(withSecret ? verifier : undefined)),
      fc.constantFrom<UnsealSecretCheck>('absent', 'matches', 'differs').map(unseal),
    );
    fc.assert(fc.property(fc.array(cmd, { maxLength: 30 }), (cmds) => {
      let state = openTenant('t1');
      const accepted: Array<{ event: Parameters<typeof evolveTenantSeal>[1]; recordedAt: string }> = [];
      for (const c of cmds) {
        const d = decideTenantSeal(c, state);
        if (!d.ok) continue;
        for (const e of d.events) {
          accepted.push({ event: e, recordedAt: 'now' });
          state = evolveTenantSeal(state, e, 'now');
        }
      }
      const last = accepted.at(-1)?.event.type;
      expect(state.status === 'Sealed').toBe(last === 'TenantSealed');
      expect(foldTenantSeal('t1', accepted)).toEqual(state);
      // A sealed tenant with a verifier never opens without the matching secret.
      if (state.status === 'Sealed' && state.verifier) {
        expect(decideTenantSeal(unseal('differs'), state).ok).toBe(false);
        expect(decideTenantSeal(unseal('absent'), state).ok).toBe(false);
      }
    }));
  });
});

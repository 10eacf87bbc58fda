import fc from 'fast-check';
import {
  decideTenantSeal, evolveTenantSeal, foldTenantSeal, openTenant, type TenantSealCommand, type TenantSealEvent, type TenantSealState, type UnsealSecretCheck,
} from './tenant-seal';

const meta = { actor: 'op', now: '2026-12-07T00:00:00.000Z' };
const seal = (secretRequired = false): TenantSealCommand => ({ type: 'SealTenant', data: { tenant: 't1', reason: 'incident', secretRequired }, meta });
const unseal = (secret: UnsealSecretCheck): TenantSealCommand => ({ type: 'UnsealTenant', data: { tenant: 't1', reason: 'resolved', secret }, meta });

function apply(state: TenantSealState, cmd: TenantSealCommand, position = 1): TenantSealState {
  const d = decideTenantSeal(cmd, state);
  return d.ok ? d.events.reduce((s, e) => evolveTenantSeal(s, e, 'now', position), state) : state;
}

describe('tenant seal decider', () => {
  it('seals an open tenant; the event says whether a secret is required and carries nothing of it', () => {
    const d = decideTenantSeal(seal(true), openTenant('t1'));
    expect(d).toEqual({ ok: true, events: [{ type: 'TenantSealed', data: { tenant: 't1', reason: 'incident', secretRequired: true }, meta }] });
    const plain = decideTenantSeal(seal(), openTenant('t1'));
    expect(plain.ok && plain.events[0]!.data).toEqual({ tenant: 't1', reason: 'incident', secretRequired: false });
  });

  it('the sealed state remembers the position of its TenantSealed event (the verifier is stored under it)', () => {
    expect(apply(openTenant('t1'), seal(true), 7)).toEqual({ status: 'Sealed', tenant: 't1', sealedAt: 'now', secretRequired: true, sealPosition: 7 });
  });

  it('refuses to seal a sealed tenant and to unseal an open one', () => {
    const sealed = apply(openTenant('t1'), seal());
    expect(decideTenantSeal(seal(), sealed)).toEqual({ ok: false, rejection: { code: 'TENANT_ALREADY_SEALED', tenant: 't1' } });
    expect(decideTenantSeal(unseal('absent'), openTenant('t1'))).toEqual({ ok: false, rejection: { code: 'TENANT_NOT_SEALED', tenant: 't1' } });
  });

  it('a tenant sealed with a secret unseals only with the matching secret', () => {
    const sealed = apply(openTenant('t1'), seal(true));
    expect(decideTenantSeal(unseal('absent'), sealed)).toEqual({ ok: false, rejection: { code: 'UNSEAL_SECRET_REQUIRED', tenant: 't1' } });
    expect(decideTenantSeal(unseal('differs'), sealed)).toEqual({ ok: false, rejection: { code: 'UNSEAL_SECRET_INVALID', tenant: 't1' } });
    const d = decideTenantSeal(unseal('matches'), sealed);
    expect(d.ok && d.events.map((e) => e.type)).toEqual(['TenantUnsealed']);
  });

  it('a tenant sealed without a secret unseals without one', () => {
    const sealed = apply(openTenant('t1'), seal());
    expect(decideTenantSeal(unseal('absent'), sealed).ok).toBe(true);
  });

  it('a TenantSealed event whose secretRequired is damaged (not false) stays locked behind a secret', () => {
    const damaged = { type: 'TenantSealed', data: { tenant: 't1', reason: '', secretRequired: 'no' as unknown as boolean }, meta } as TenantSealEvent;
    const state = evolveTenantSeal(openTenant('t1'), damaged, 'now', 1);
    expect(decideTenantSeal(unseal('absent'), state).ok).toBe(false);
  });

  it('property: the state is Sealed exactly when the last accepted event sealed; fold equals the step-by-step state; a secret seal never opens without a match', () => {
    const cmd = fc.oneof(fc.boolean().map(seal), fc.constantFrom<UnsealSecretCheck>('absent', 'matches', 'differs').map(unseal));
    fc.assert(fc.property(fc.array(cmd, { maxLength: 30 }), (cmds) => {
      let state = openTenant('t1');
      const accepted: Array<{ event: TenantSealEvent; recordedAt: string; position: number }> = [];
      for (const c of cmds) {
        const before = state;
        const d = decideTenantSeal(c, state);
        if (!d.ok) continue;
        if (c.type === 'UnsealTenant' && before.status === 'Sealed' && before.secretRequired) expect(c.data.secret).toBe('matches');
        for (const e of d.events) {
          const position = accepted.length + 1;
          accepted.push({ event: e, recordedAt: 'now', position });
          state = evolveTenantSeal(state, e, 'now', position);
        }
      }
      const last = accepted.at(-1);
      expect(state.status === 'Sealed').toBe(last?.event.type === 'TenantSealed');
      if (state.status === 'Sealed') expect(state.sealPosition).toBe(last!.position);
      expect(foldTenantSeal('t1', accepted)).toEqual(state);
      // Decisions are pure: asking twice gives the same answer.
      for (const c of cmds.slice(0, 3)) expect(decideTenantSeal(c, state)).toEqual(decideTenantSeal(c, state));
      if (state.status === 'Sealed' && state.secretRequired) {
        expect(decideTenantSeal(unseal('differs'), state).ok).toBe(false);
        expect(decideTenantSeal(unseal('absent'), state).ok).toBe(false);
      }
    }));
  });
});

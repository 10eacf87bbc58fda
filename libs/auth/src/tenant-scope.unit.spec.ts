import fc from 'fast-check';
import { confineToTenant, isOperatorScope } from './tenant-scope';

describe('confineToTenant', () => {
  const tenant = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/);
  it('operator scope gets what it asks for (undefined = all tenants)', () => {
    fc.assert(fc.property(fc.option(tenant, { nil: undefined }), (t) => {
      expect(confineToTenant({ principalId: 'op', tenant: '*' }, t)).toEqual({ ok: true, tenant: t });
    }));
    expect(isOperatorScope({ tenant: '*' })).toBe(true);
  });

  it('a tenant principal is confined to its tenant, and refused for any other without naming it', () => {
    fc.assert(fc.property(tenant, tenant, (own, other) => {
      const caller = { principalId: 'p', tenant: own };
      expect(confineToTenant(caller, undefined)).toEqual({ ok: true, tenant: own });
      expect(confineToTenant(caller, own)).toEqual({ ok: true, tenant: own });
      const r = confineToTenant(caller, other === own ? `${other}x` : other);
      // The message is the same whichever tenant was asked for: it names none but the caller's.
      expect(r).toEqual(confineToTenant(caller, `${own}-elsewhere`));
      expect(r.ok).toBe(false);
      expect(confineToTenant(caller, '*').ok).toBe(false);
    }));
  });
});

/**
 * The keys service's one failure table: lifecycle and data-plane errors get their code here. Found by
 * the chaos harness (kill-policy, docs/reliability.md): with EKM_AUTHZ=policy and the policy service down,
 * lifecycle calls answered EKM_INTERNAL instead of the typed, retriable EKM_UNAVAILABLE the data plane gave.
 */
import { BusErrorCode } from '@ekm/contracts';
import { ConcurrencyConflictError } from '@ekm/event-store';
import { classify, toFailReply, rejectionReply } from './call-failures';
import { DependencyUnavailableError } from './dependency-unavailable';
import { AliasTakenError, ImportTokenRaceError, InvalidCursorError } from './key-store.errors';
import { AuditUnavailableError } from './usage-recorder';

const replyOf = (err: unknown) => {
  const f = classify(err);
  return f === null ? null : toFailReply(f);
};

describe('classify (the one error table)', () => {
  it('maps an unavailable authorizer to EKM_UNAVAILABLE, naming the dependency', () => {
    const reply = replyOf(new DependencyUnavailableError('policy service'));
    expect(reply?.error.code).toBe(BusErrorCode.Unavailable);
    expect(reply?.error.message).toMatch(/policy service is unavailable; the operation was not performed \(nothing was changed\)/);
  });

  it('maps the store refusals of lifecycle calls to their codes', () => {
    expect(replyOf(new AliasTakenError('alias/a', 'k1'))?.error).toEqual({ code: BusErrorCode.Conflict, message: 'alias alias/a already names key k1; aliases are unique across keys' });
    expect(replyOf(new ImportTokenRaceError('t1'))?.error.code).toBe(BusErrorCode.ImportTokenInvalid);
    expect(replyOf(new InvalidCursorError())?.error.code).toBe(BusErrorCode.Validation);
    expect(replyOf(new AuditUnavailableError())?.error.code).toBe(BusErrorCode.AuditUnavailable);
    expect(replyOf(new ConcurrencyConflictError('s', 1 as never, 2 as never))?.error.code).toBe(BusErrorCode.Conflict);
  });

  it('a domain rejection carries its rejection code in details', () => {
    expect(rejectionReply({ code: 'KEY_NOT_FOUND', keyId: 'k1' as never })).toEqual({
      ok: false, error: { code: BusErrorCode.KeyNotFound, message: 'key k1 does not exist', details: { rejection: 'KEY_NOT_FOUND' } },
    });
  });

  it('a key-state refusal names the state in details.keyStatus (edges switch on it, not on the message)', () => {
    const r = rejectionReply({ code: 'INVALID_KEY_STATE', keyId: 'k1' as never, status: 'Disabled', operation: 'Encrypt' });
    expect(r.error).toMatchObject({ code: BusErrorCode.KeyNotActive, details: { rejection: 'INVALID_KEY_STATE', keyStatus: 'Disabled' } });
  });

  it('leaves an unknown error to EKM_INTERNAL (null)', () => {
    expect(classify(new TypeError('bug'))).toBeNull();
  });
});

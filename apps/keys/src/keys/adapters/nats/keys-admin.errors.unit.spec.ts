/**
 * The lifecycle API's error mapping. Found by the chaos harness (kill-policy, docs/reliability.md): with
 * EKM_AUTHZ=policy and the policy service down, RotateKey and the other lifecycle calls answered
 * EKM_INTERNAL (and logged a failure) instead of the typed, retriable EKM_UNAVAILABLE the data plane gives.
 */
import { BusErrorCode } from '@ekm/contracts';
import { DependencyUnavailableError } from '../../application/crypto/usage-run';
import { errorReply } from './keys-admin.errors';

describe('errorReply', () => {
  it('maps an unavailable authorizer to EKM_UNAVAILABLE, naming the dependency', () => {
    const reply = errorReply(new DependencyUnavailableError('policy service'));
    expect(reply?.error.code).toBe(BusErrorCode.Unavailable);
    expect(reply?.error.message).toMatch(/policy service is unavailable; nothing was changed/);
  });

  it('leaves an unknown error to EKM_INTERNAL (null)', () => {
    expect(errorReply(new TypeError('bug'))).toBeNull();
  });
});

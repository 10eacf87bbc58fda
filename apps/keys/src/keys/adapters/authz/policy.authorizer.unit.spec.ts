import type { NatsConnection } from '@nats-io/transport-node';
import { fail, type Reply } from '@ekm/contracts';
import { DependencyUnavailableError } from '../../application/dependency-unavailable';
import type { KeyStateReader } from '../../application/ports';
import { PolicyAuthorizer } from './policy.authorizer';

/** A connection whose Decide answers `reply` (the policy service's refusal codes, not a transport). */
const answering = (reply: Reply<unknown>): NatsConnection => ({ request: () => Promise.resolve({ json: () => reply }) }) as unknown as NatsConnection;
const reader = { load: () => Promise.resolve(null) } as unknown as KeyStateReader;
const req = { principal: 'alice', action: 'keys:Encrypt', resource: { keyId: 'k', tenant: 'acme' }, encryptionContext: { note: 'x'.repeat(2000) } };

describe('PolicyAuthorizer: Decide refusals', () => {
  it.each(['EKM_VALIDATION', 'EKM_MALFORMED_REQUEST', 'EKM_PAYLOAD_TOO_LARGE'] as const)('%s (invalid facts) is a deny naming why, not "policy unavailable"', async (code) => {
    const authz = new PolicyAuthorizer(answering(fail(code, 'encryptionContext.note: must have at most 1024 characters')), reader);
    await expect(authz.authorize(req)).resolves.toEqual({ allowed: false, reason: expect.stringMatching(/cannot decide on this request: encryptionContext\.note/) });
  });

  it('a policy service that is down or overloaded is still a retriable dependency failure', async () => {
    const authz = new PolicyAuthorizer(answering(fail('EKM_UNAVAILABLE', 'busy')), reader);
    await expect(authz.authorize(req)).rejects.toBeInstanceOf(DependencyUnavailableError);
  });
});

/**
 * Wire codes of the lifecycle API: the ONE exhaustive table from domain rejections to BusErrorCode,
 * and the mapping of application/infrastructure errors. Messages come from `describeRejection` (they
 * name the key, the state and the rule; never material).
 */
import { BusErrorCode, fail, type FailReply } from '@ekm/contracts';
import { ImportMaterialInvalidError, RootKeyUnavailableError, RootOperationFailedError, UnwrapFailedError } from '@ekm/crypto';
import { ConcurrencyConflictError } from '@ekm/event-store';
import { describeRejection, type KeyRejection } from '../../domain';
import { AliasTakenError } from '../postgres/key-projection';
import { ImportTokenRaceError } from '../postgres/import-token.store';
import { InvalidCursorError } from '../postgres/key-list.query';
import { AuditUnavailableError } from '../../application/usage-recorder';
import { RequestIdReusedError, StaleExpectedVersionError } from '../../application/handle-key-command';
import { DependencyUnavailableError } from '../../application/dependency-unavailable';
import { isDatabaseUnavailable } from '../../application/database-unavailable';
import { REJECTION_TO_BUS } from '../../application/rejection-codes';

export { REJECTION_TO_BUS };

export const rejectionReply = (r: KeyRejection): FailReply => fail(REJECTION_TO_BUS[r.code], describeRejection(r), { rejection: r.code });

/** Errors the use cases throw on purpose, as replies; anything else is EKM_INTERNAL (null here). */
export function errorReply(err: unknown): FailReply | null {
  if (err instanceof AliasTakenError) return fail(BusErrorCode.Conflict, err.message);
  if (err instanceof InvalidCursorError) return fail(BusErrorCode.Validation, err.message);
  if (err instanceof ImportTokenRaceError) return fail(BusErrorCode.ImportTokenInvalid, err.message);
  if (err instanceof ImportMaterialInvalidError) return fail(BusErrorCode.Validation, `encryptedKeyMaterial: ${err.message}`);
  if (err instanceof UnwrapFailedError) return fail(BusErrorCode.RootKeyUnavailable, 'the root of trust could not unwrap stored material');
  if (err instanceof RootKeyUnavailableError || err instanceof RootOperationFailedError) return fail(BusErrorCode.RootKeyUnavailable, 'the root of trust is unavailable; nothing was changed');
  if (err instanceof ConcurrencyConflictError) return fail(BusErrorCode.Conflict, 'the key changed concurrently too often; retry');
  if (err instanceof AuditUnavailableError) return fail(BusErrorCode.AuditUnavailable, err.message);
  if (err instanceof StaleExpectedVersionError) return fail(BusErrorCode.Conflict, err.message);
  // Someone else's request id: a refusal (recorded DENIED) that says nothing about what it created.
  if (err instanceof RequestIdReusedError) return fail(BusErrorCode.Forbidden, err.message);
  // The authorizer (EKM_AUTHZ=policy: the policy service) could not decide; nothing was run.
  if (err instanceof DependencyUnavailableError) return fail(BusErrorCode.Unavailable, `${err.message}; nothing was changed, retry`);
  // A timed-out COMMIT may still have committed: the caller retries with the same request id (idempotent).
  if (isDatabaseUnavailable(err)) return fail(BusErrorCode.Unavailable, 'the key store (Postgres) is unavailable or did not answer in time; retry with the same request id');
  return null;
}

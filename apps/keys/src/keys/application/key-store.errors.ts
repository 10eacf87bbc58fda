/**
 * Refusals the key store's adapters throw on purpose (inside the transaction, so nothing commits). They
 * live here, beside the ports, so the one failure table (./call-failures.ts) classifies them without
 * importing an adapter.
 */

/** Another key holds the alias. */
export class AliasTakenError extends Error {
  override readonly name = 'AliasTakenError';
  constructor(readonly alias: string, readonly holderKeyId: string) {
    super(`alias ${alias} already names key ${holderKeyId}; aliases are unique across keys`);
  }
}

/** The import token was used by a concurrent import (tokens are single-use). */
export class ImportTokenRaceError extends Error {
  override readonly name = 'ImportTokenRaceError';
  constructor(readonly tokenId: string) {
    super(`import token ${tokenId} was already used; tokens are single-use`);
  }
}

/** A list cursor this service did not hand out (or one for another query). */
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
  constructor() {
    super('cursor: is not a cursor returned by list-keys');
  }
}

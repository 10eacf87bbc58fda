/**
 * Compile-time only: the keys domain's material-free views are the wire contract of their replies, in
 * both directions. The handlers return `Reply<KeyInfoReply>` (so a domain value the reply schema would
 * refuse does not compile), and these assertions make a field added to, removed from or retyped in
 * either side fail `npm run typecheck`, so the domain type cannot drift into a second wire type.
 */
import type { KeyInfoReply, KeyRotationStatusReply, KeyVersionInfoReply } from '@ekm/contracts';
import type { KeyInfo, KeyVersionInfo } from '../../domain';
import type { KeyRotationStatus } from './keys-attributes.controller';

/**
 * `true` when `A` and `B` have the same fields and are assignable to each other; otherwise names what
 * differs (the field-name check catches an optional field added on one side, which assignability alone lets through).
 */
type Same<A, B> =
  [Exclude<keyof A, keyof B>] extends [never]
    ? [Exclude<keyof B, keyof A>] extends [never]
      ? [A] extends [B] ? ([B] extends [A] ? true : { contractNotAssignableToDomain: B }) : { domainNotAssignableToContract: A }
      : { fieldsOnlyInContract: Exclude<keyof B, keyof A> }
    : { fieldsOnlyInDomain: Exclude<keyof A, keyof B> };
type Assert<T extends true> = T;

/** The domain brands its key ids (`KeyId`); on the wire they are strings. */
type Unbranded<T extends { readonly keyId: unknown }> = Omit<T, 'keyId'> & { readonly keyId: string };

export type KeysReplyContracts = [
  Assert<Same<Unbranded<KeyInfo>, KeyInfoReply>>,
  Assert<Same<KeyVersionInfo, KeyVersionInfoReply>>,
  Assert<Same<KeyRotationStatus, KeyRotationStatusReply>>,
];

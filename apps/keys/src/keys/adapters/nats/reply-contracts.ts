/**
 * Compile-time only: the keys domain's material-free views and the data plane's results are the wire contract of their replies, in
 * both directions. The handlers return `Reply<KeyInfoReply>` (so a domain value the reply schema would
 * refuse does not compile), and these assertions make a field added to, removed from or retyped in
 * either side fail `npm run typecheck`, so the domain type cannot drift into a second wire type.
 */
import type {
  CiphertextReply, DataKeyReply, KeyInfoReply, KeyRotationStatusReply, KeyVersionInfoReply, MacReply, MacVerificationReply, PlaintextReply, ReEncryptReply,
} from '@ekm/contracts';
import type { KeyInfo, KeyVersionInfo } from '../../domain';
import type { DataKeyResult, DecryptResult, EncryptResult, MacResult, ReEncryptResult, VerifyMacResult } from '../../application/crypto/data-plane';
import type { SecretBytes } from '../../application/crypto/secret-bytes';
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

/** What the transport writes: SecretBytes serialize as base64 strings (then zeroed). */
type OnWire<T> = { readonly [K in keyof T]: T[K] extends SecretBytes ? string : T[K] extends SecretBytes | undefined ? string | undefined : T[K] };

export type KeysReplyContracts = [
  // The data plane's results (plaintext as SecretBytes) are its replies.
  Assert<Same<OnWire<Required<DataKeyResult>>, DataKeyReply>>,
  Assert<Same<OnWire<Omit<DataKeyResult, 'plaintext'>>, CiphertextReply>>,
  Assert<Same<OnWire<EncryptResult>, CiphertextReply>>,
  Assert<Same<OnWire<DecryptResult>, PlaintextReply>>,
  Assert<Same<OnWire<ReEncryptResult>, ReEncryptReply>>,
  Assert<Same<OnWire<MacResult>, MacReply>>,
  Assert<Same<OnWire<VerifyMacResult>, MacVerificationReply>>,
  Assert<Same<Unbranded<KeyInfo>, KeyInfoReply>>,
  Assert<Same<KeyVersionInfo, KeyVersionInfoReply>>,
  Assert<Same<KeyRotationStatus, KeyRotationStatusReply>>,
];

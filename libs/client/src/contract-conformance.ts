/**
 * Compile-time checks that the SDK's hand-documented input types say what the request schemas say.
 * `send` (wire-contract.ts) already refuses a body the schema would refuse; this file checks the other
 * way too: every field of a schema's `z.input` is in the SDK input (or listed below as deliberately
 * left out, with why), no SDK field is unknown to the schema, and the SDK input, with Buffers sent as
 * base64 strings, is assignable to the schema's input. No runtime code: `npm run typecheck` fails when
 * a schema and its SDK type drift (a new schema field, a renamed one, a narrowed enum...).
 */
import type { AuditQueryInput } from './audit.client';
import type {
  DecryptInput, EncryptInput, GenerateDataKeyInput, GenerateMacInput, ReEncryptInput, VerifyMacInput,
} from './crypto.types';
import type { CreateKeyInput, ListKeysInput } from './keys.types';
import type { ExternalTenantRootInput, SealTenantInput } from './tenants.client';
import type { RequestBody } from './wire-contract';

/** A Buffer in the SDK is base64 on the wire. */
type B64<V> = V extends Buffer ? string : V;
type OnTheWire<T> = { readonly [K in keyof T]: B64<T[K]> };

/**
 * `true` when `Sdk` conforms to the schema input `Body`; otherwise an object naming the problem, which
 * then fails `Assert`. `LeftOut`: schema fields the SDK does not offer; `SdkOnly`: SDK fields that are
 * not sent as such (positional arguments or options).
 */
export type Conforms<Sdk, Body, LeftOut extends keyof Body = never, SdkOnly extends keyof Sdk = never> =
  [Exclude<keyof Body, keyof Sdk | LeftOut>] extends [never]
    ? [Exclude<keyof Sdk, keyof Body | SdkOnly>] extends [never]
      ? OnTheWire<Omit<Sdk, SdkOnly>> extends Omit<Body, LeftOut> ? true : { sdkInputNotAssignableToSchemaInput: OnTheWire<Omit<Sdk, SdkOnly>> }
      : { sdkFieldsTheSchemaDoesNotKnow: Exclude<keyof Sdk, keyof Body | SdkOnly> }
    : { schemaFieldsMissingInSdk: Exclude<keyof Body, keyof Sdk | LeftOut> };
type Assert<T extends true> = T;

export type ContractConformance = [
  // keys.types.ts
  Assert<Conforms<CreateKeyInput, RequestBody<'keys', 'create-key'>>>,
  // `state` is the CLI's alias of `status`; the SDK names it once.
  Assert<Conforms<ListKeysInput, RequestBody<'keys', 'list-keys'>, 'state'>>,
  // crypto.types.ts
  Assert<Conforms<GenerateDataKeyInput, RequestBody<'keys', 'generate-data-key'>>>,
  Assert<Conforms<GenerateDataKeyInput, RequestBody<'keys', 'generate-data-key-without-plaintext'>>>,
  Assert<Conforms<GenerateDataKeyInput, RequestBody<'keys', 'generate-data-key-batch'>['items'][number]>>,
  Assert<Conforms<EncryptInput, RequestBody<'keys', 'encrypt'>>>,
  Assert<Conforms<DecryptInput, RequestBody<'keys', 'decrypt'>>>,
  Assert<Conforms<DecryptInput, RequestBody<'keys', 'decrypt-batch'>['items'][number]>>,
  Assert<Conforms<ReEncryptInput, RequestBody<'keys', 're-encrypt'>>>,
  Assert<Conforms<ReEncryptInput, RequestBody<'keys', 're-encrypt-batch'>['items'][number]>>,
  Assert<Conforms<GenerateMacInput, RequestBody<'keys', 'generate-mac'>>>,
  Assert<Conforms<VerifyMacInput, RequestBody<'keys', 'verify-mac'>>>,
  // tenants.client.ts: the tenant is the methods' first argument.
  Assert<Conforms<SealTenantInput, RequestBody<'keys', 'seal-tenant'>, 'tenant'>>,
  Assert<Conforms<SealTenantInput, RequestBody<'keys', 'unseal-tenant'>, 'tenant'>>,
  Assert<Conforms<ExternalTenantRootInput, RequestBody<'keys', 'set-tenant-root-external'>, 'tenant'>>,
  // audit.client.ts (verify and report inputs, and rotation.client.ts's, are RequestBody itself).
  Assert<Conforms<AuditQueryInput, RequestBody<'audit', 'query'>>>,
];

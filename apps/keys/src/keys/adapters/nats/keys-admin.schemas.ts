/**
 * Request bodies of the lifecycle API (`ekm.v1.keys.*`), validated with zod through `parseRequest`:
 * messages name the field and the rule. Shapes follow libs/client's keys.types.ts. Range rules the
 * domain owns (deletion window, rotation period, tag/alias syntax) are left to it, so they answer with
 * the domain's typed rejections.
 */
import { z } from 'zod';
import { aliasName, integerBetween, streamVersion, tenantId, withAliasPrefix } from '@ekm/contracts';
import { KEY_SPECS, KEY_STATUSES, KEY_USAGES, KEY_ORIGINS, WRAPPING_ALGORITHMS, WRAPPING_KEY_SPECS } from '../../domain';

const keyRef = z.string().min(1).max(300);
const stringMap = z.record(z.string().min(1).max(256), z.string().max(256));
// A wide range: the domain's own bounds (7-30, 1-2560) answer with its typed rejections.
const wholeDays = integerBetween(0, 100_000);

export const KeyRefRequest = z.strictObject({ keyId: keyRef });

export const CreateKeyRequest = z.strictObject({
  tenant: tenantId,
  spec: z.enum(KEY_SPECS).default('SYMMETRIC_DEFAULT'),
  usage: z.enum(KEY_USAGES).optional(),
  origin: z.enum(KEY_ORIGINS).default('EKM'),
  description: z.string().max(8192).optional(),
  tags: stringMap.optional(),
  requiredContext: stringMap.optional(),
});

/** `tag` as `k=v` (CLI form) or `{key, value}` (SDK form). */
const tagFilter = z.union([
  z.string().max(512).regex(/^[^=]+=.*$/, 'must look like key=value'),
  z.strictObject({ key: z.string().min(1).max(128), value: z.string().max(256) }),
]);

export const ListKeysRequest = z.strictObject({
  tenant: tenantId.optional(),
  status: z.enum(KEY_STATUSES).optional(),
  state: z.enum(KEY_STATUSES).optional(),
  tag: tagFilter.optional(),
  alias: aliasName.optional(),
  limit: z.number().int('must be an integer').min(1).max(100).default(50),
  cursor: z.string().min(1).max(512).optional(),
});

/** Alias with or without the `alias/` prefix; the domain also checks it (reserved prefixes). */
export const AliasRequest = z.strictObject({ keyId: keyRef, alias: aliasName });
export const TagKeyRequest = z.strictObject({ keyId: keyRef, tags: stringMap });
export const UpdateDescriptionRequest = z.strictObject({ keyId: keyRef, description: z.string().max(8192) });
export const UntagKeyRequest = z.strictObject({ keyId: keyRef, tagKeys: z.array(z.string().min(1).max(128)).min(1).max(50) });
export const EnableRotationRequest = z.strictObject({ keyId: keyRef, periodDays: wholeDays.optional() });
export const RevokeKeyRequest = z.strictObject({ keyId: keyRef, reason: z.string().min(1, 'is required').max(1024) });
/** `reason` SCHEDULED and `expectedVersion` are what the rotation scheduler sends; both optional. */
export const RotateKeyRequest = z.strictObject({ keyId: keyRef, reason: z.enum(['ON_DEMAND', 'SCHEDULED']).optional(), expectedVersion: streamVersion.optional() });
export const DestroyKeyRequest = z.strictObject({ keyId: keyRef, expectedVersion: streamVersion.optional() });
export const ScheduleDeletionRequest = z.strictObject({ keyId: keyRef, pendingWindowDays: wholeDays.optional() });

export const ImportParametersRequest = z.strictObject({
  keyId: keyRef,
  wrappingAlgorithm: z.enum(WRAPPING_ALGORITHMS).default('RSAES_OAEP_SHA_256'),
  wrappingKeySpec: z.enum(WRAPPING_KEY_SPECS).default('RSA_4096'),
});

const base64 = z.string().min(1).regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64');
export const ImportKeyMaterialRequest = z.strictObject({
  keyId: keyRef,
  importToken: base64.max(512),
  encryptedKeyMaterial: base64.max(4096),
  wrappingAlgorithm: z.enum(WRAPPING_ALGORITHMS).optional(),
});

export { withAliasPrefix };

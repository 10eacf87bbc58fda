/**
 * Request bodies of the keys service's tenant subjects (`ekm.v1.keys.*`): the tenant root
 * (describe-tenant-root, set-tenant-root-external) and the tenant kill switch (seal-tenant,
 * unseal-tenant, get-tenant-seal-status). Validated with zod through `parseRequest`; messages name the
 * field and the rule, never the value (credentials and unseal secrets travel here). The SDK's input
 * types are checked against these (libs/client/src/contract-conformance.ts).
 */
import { z } from 'zod';
import { tenantId } from '../fields';

const text = (max: number) => z.string().min(1, 'is required').max(max);

export const DescribeTenantRootRequest = z.strictObject({ tenant: tenantId });
export const SetTenantRootExternalRequest = z.strictObject({
  tenant: tenantId,
  endpoint: z.string().url('must be an https:// URL').max(2048).refine((u) => u.startsWith('https://'), 'must be an https:// URL'),
  region: z.string().regex(/^[a-z0-9-]{1,64}$/, 'must be an AWS region name such as eu-west-1'),
  keyId: text(2048),
  credentials: z.strictObject({ accessKeyId: text(256), secretAccessKey: text(1024), sessionToken: text(8192).optional() }),
  caPem: z.string().max(65_536).refine((p) => p.includes('-----BEGIN CERTIFICATE-----'), 'must be a PEM certificate').optional(),
});

/** At least 16 characters: the secret is all that stands between an admin who sealed and anyone who may unseal. */
const unsealSecret = z.string().min(16).max(1024);
const reason = z.string().max(512).default('');

export const SealTenantRequest = z.strictObject({ tenant: tenantId, reason, unsealSecret: unsealSecret.optional() });
export const UnsealTenantRequest = z.strictObject({ tenant: tenantId, reason, unsealSecret: unsealSecret.optional() });
export const TenantSealStatusRequest = z.strictObject({ tenant: tenantId });

/**
 * Request bodies of the rotation service (`ekm.v1.rotation.*`), validated with zod through
 * `parseRequest`; unknown fields are refused. The SDK's input types are checked against these
 * (libs/client/src/contract-conformance.ts).
 */
import { z } from 'zod';
import { keyVersion } from '../fields';

const keyId = z.string().min(1).max(300);

/** `status`: `limit` per list of the schedule report. */
export const RotationStatusRequest = z.strictObject({ limit: z.number().int().min(1).max(1000).default(50) });
/** `rewrap-status`: with `version`, the first `limit` assets still under it. */
export const RewrapStatusRequest = z.strictObject({ keyId, version: keyVersion.optional(), limit: z.number().int().min(1).max(1000).default(100) });
/** `check-version-retirement`: without `version`, every version of the key (DestroyKey). */
export const RetirementCheckRequest = z.strictObject({ keyId, version: keyVersion.optional() });

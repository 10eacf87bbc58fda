/**
 * Operations whose request or reply carries key material or caller plaintext: with authentication on,
 * their bodies must be sealed under the caller's session (docs/auth.md §4a), and a service refuses an
 * unsealed one with `EKM_SEAL_REQUIRED` before it reads the body. (The SDK seals every request with a
 * session; this list is what a service insists on.)
 */
import { subject } from './subjects';

export const SEALED_SUBJECTS: ReadonlySet<string> = new Set<string>([
  subject('keys', 'generate-data-key'),
  subject('keys', 'generate-data-key-batch'),
  subject('keys', 'encrypt'),
  subject('keys', 'decrypt'),
  subject('keys', 'decrypt-batch'),
  subject('keys', 're-encrypt'),
  subject('keys', 're-encrypt-batch'),
  subject('keys', 'generate-mac'),
  subject('keys', 'verify-mac'),
  subject('keys', 'import-key-material'),
  // The request carries the credentials of the tenant's external KMS.
  subject('keys', 'set-tenant-root-external'),
  // The request may carry the tenant-held unseal secret.
  subject('keys', 'seal-tenant'),
  subject('keys', 'unseal-tenant'),
  // The reply carries the new credential's private key.
  subject('policy', 'create-principal'),
  subject('policy', 'rotate-credential'),
]);

/** True when the bodies on `subj` must be sealed (with authentication on). */
export function mustBeSealed(subj: string): boolean {
  return SEALED_SUBJECTS.has(subj);
}

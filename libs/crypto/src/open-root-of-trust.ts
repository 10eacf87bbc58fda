/**
 * Opens the root of trust a service's config names (EKM_ROOT_OF_TRUST): `software` (the sealed root
 * file in the data dir) or `pkcs11` (EKM_PKCS11_*). No fallback: a pkcs11 root that cannot open fails
 * the start. The keys service (KEK wrapping) and the audit service (its checkpoint signing key) share it.
 */
import { Pkcs11RootOfTrust } from './pkcs11/pkcs11-root-of-trust';
import type { RootOfTrust } from './root-of-trust.port';
import { SoftwareRootOfTrust } from './software/software-root-of-trust';

/** The root-of-trust part of a service config (`RootOfTrustConfig` of @ekm/config has this shape). */
export type RootOfTrustSettings =
  | { readonly kind: 'software'; readonly secret?: string }
  | { readonly kind: 'pkcs11'; readonly library: string; readonly tokenLabel: string; readonly pin: string; readonly keyLabel: string };

export async function openRootOfTrust(config: { readonly rootOfTrust: RootOfTrustSettings; readonly dataDir: string; readonly env: 'development' | 'production' }): Promise<RootOfTrust> {
  const r = config.rootOfTrust;
  if (r.kind === 'pkcs11') return Pkcs11RootOfTrust.open({ library: r.library, tokenLabel: r.tokenLabel, pin: r.pin, keyLabel: r.keyLabel });
  return SoftwareRootOfTrust.open({ dataDir: config.dataDir, env: config.env, ...(r.secret !== undefined ? { secret: r.secret } : {}) });
}

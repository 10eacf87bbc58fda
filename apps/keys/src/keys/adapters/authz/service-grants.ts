/**
 * Built-in grants for EKM's own services. A principal id `service:<name>` exists only in sessions minted
 * with the services' shared secret (libs/auth serviceSessionSource); the policy service generates
 * `p-…` ids for every principal it creates, so no tenant or administrator can hold one. The rotation
 * scheduler needs exactly these lifecycle commands on every tenant's keys, whatever the policies say;
 * nothing else is granted, and data-plane operations (which return key material) never are.
 */
const SERVICE_GRANTS: Readonly<Record<string, ReadonlySet<string>>> = {
  'service:rotation': new Set(['keys:RotateKey', 'keys:DestroyKey', 'keys:ExpireImportToken', 'keys:DescribeKey']),
};

/** True when `principal` is an EKM service granted `action` by construction. */
export function isBuiltInServiceGrant(principal: string, action: string): boolean {
  return SERVICE_GRANTS[principal]?.has(action) ?? false;
}

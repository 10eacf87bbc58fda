/**
 * AWS's ways of naming a key — key id, key ARN, alias name, alias ARN — mapped to EKM key references
 * (the key's UUID or `alias/<name>`), and EKM ids mapped back to ARNs. Each tenant is one AWS account:
 * its 12-digit id is derived from the tenant name, so ARNs are stable across restarts and replicas.
 */
import { createHash } from 'node:crypto';
import { validation, AwsError } from './aws-error';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ALIAS = /^alias\/[A-Za-z0-9/_-]{1,250}$/;
const ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]{1,32}):(\d{12}):(key|alias)\/(.{1,256})$/;

/** The AWS account id of `tenant` (12 digits). The operator scope `*` has its own. */
export function accountOf(tenant: string): string {
  const h = createHash('sha256').update('ekm/aws-account/').update(tenant).digest();
  return (h.readBigUInt64BE(0) % 10n ** 12n).toString().padStart(12, '0');
}

export const keyArn = (region: string, tenant: string, keyId: string): string => `arn:aws:kms:${region}:${accountOf(tenant)}:key/${keyId}`;
export const aliasArn = (region: string, tenant: string, alias: string): string => `arn:aws:kms:${region}:${accountOf(tenant)}:${alias}`;

/** A reference as the keys service takes it, and (for ARNs) the account the caller named. */
export interface KeyRef {
  readonly ref: string;
  readonly account?: string;
}

/**
 * Parses `KeyId` (or `TargetKeyId`, `SourceKeyId`, ...). `allowAlias`: AWS refuses aliases where a key
 * must be named exactly (TagResource, EnableKey, ...): NotFoundException there, as AWS answers.
 */
export function parseKeyRef(field: string, value: unknown, allowAlias = true): KeyRef {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2048) throw validation(`${field} must be a key id, key ARN, alias name or alias ARN`);
  const arn = ARN.exec(value);
  if (arn) {
    const [, , account, kind, rest] = arn;
    if (kind === 'key') {
      if (!UUID.test(rest!)) throw new AwsError('NotFoundException', `Invalid keyId ${value}`);
      return { ref: rest!.toLowerCase(), account: account! };
    }
    const alias = `alias/${rest!}`;
    if (!allowAlias) throw new AwsError('NotFoundException', `${field}: an alias cannot be used here`);
    if (!ALIAS.test(alias)) throw new AwsError('NotFoundException', `Invalid alias ${value}`);
    return { ref: alias, account: account! };
  }
  if (value.startsWith('arn:')) throw new AwsError('InvalidArnException', `${field} is not a valid KMS ARN`);
  if (value.startsWith('alias/')) {
    if (!allowAlias) throw new AwsError('NotFoundException', `${field}: an alias cannot be used here`);
    if (!ALIAS.test(value)) throw new AwsError('NotFoundException', `Invalid alias name ${value}`);
    return { ref: value };
  }
  if (!UUID.test(value)) throw new AwsError('NotFoundException', `Invalid keyId ${value}`);
  return { ref: value.toLowerCase() };
}

/** `AliasName`: `alias/<name>`; `alias/aws/` is AWS's reserved prefix. */
export function parseAliasName(value: unknown): string {
  if (typeof value !== 'string' || !ALIAS.test(value)) throw new AwsError('InvalidAliasNameException', 'AliasName must be alias/ followed by 1..250 characters of A-Z a-z 0-9 / _ -');
  if (value.startsWith('alias/aws/')) throw new AwsError('InvalidAliasNameException', 'alias/aws/ is reserved for AWS managed keys');
  return value;
}

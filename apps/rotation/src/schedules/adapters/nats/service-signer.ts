/**
 * With EKM_AUTH=required every request on the bus must be signed: the rotation service signs its
 * commands to the keys service with its own minted `service:rotation` session (shared secret, no
 * login round trip). With EKM_AUTH=disabled (development, tests) nothing is signed.
 */
import { headers, type MsgHdrs } from '@nats-io/transport-node';
import { resolveAuthSecret, serviceSessionSource, SessionSealer, SessionSigner } from '@ekm/auth';
import type { BaseConfig } from '@ekm/config';

export function serviceSigner(config: Pick<BaseConfig, 'auth' | 'authSecret' | 'env' | 'dataDir'>, service: string): SessionSigner | undefined {
  if (config.auth !== 'required') return undefined;
  const secret = resolveAuthSecret({ ...(config.authSecret !== undefined ? { secret: config.authSecret } : {}), env: config.env, dataDir: config.dataDir });
  return new SessionSigner(serviceSessionSource(new SessionSealer(secret), service));
}

/** Headers carrying `base` plus, with a signer, the signature over exactly `body` for `subject`. */
export async function signedHeaders(signer: SessionSigner | undefined, subject: string, body: Uint8Array, base: Record<string, string>): Promise<MsgHdrs> {
  const h = headers();
  for (const [k, v] of Object.entries(base)) h.set(k, v);
  // The request id (when `base` has one) is signed with the request: it is the command's idempotency key.
  if (signer) for (const [k, v] of Object.entries(await signer.sign(subject, body, base['Ekm-Request-Id']))) h.set(k, v as string);
  return h;
}

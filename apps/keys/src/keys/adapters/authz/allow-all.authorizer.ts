/** EKM_AUTHZ=allow-all: DEVELOPMENT ONLY, allows everything but DecryptCompromised (selectAuthorizer refuses it in production). */
import type { AuthorizationDecision, AuthorizationRequest, Authorizer } from '../../application/ports';
import { DECRYPT_COMPROMISED } from '../../application/crypto/key-access';

export class AllowAllAuthorizer implements Authorizer {
  async authorize(req?: AuthorizationRequest): Promise<AuthorizationDecision> {
    // An explicit permission cannot come from "allow everything": only a policy grants it.
    if (req?.action === DECRYPT_COMPROMISED) return { allowed: false, reason: `${DECRYPT_COMPROMISED} is never granted by EKM_AUTHZ=allow-all; grant it in a policy` };
    return { allowed: true };
  }
}

/** EKM_AUTHZ=allow-all: DEVELOPMENT ONLY, allows everything (selectAuthorizer refuses it in production). */
import type { AuthorizationDecision, Authorizer } from '../../application/ports';

export class AllowAllAuthorizer implements Authorizer {
  async authorize(): Promise<AuthorizationDecision> {
    return { allowed: true };
  }
}

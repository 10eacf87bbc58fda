/** CREDENTIAL_ISSUER through @ekm/auth: Ed25519 key pairs; the service keeps only the public key. */
import { generatePrincipalCredential } from '@ekm/auth';
import type { CredentialIssuer, IssuedCredential } from '../../application/access.ports';

export class AuthCredentialIssuer implements CredentialIssuer {
  issue(): IssuedCredential {
    return generatePrincipalCredential();
  }
}

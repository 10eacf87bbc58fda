/**
 * Authenticates an AWS request (SigV4) and gives back a bus client that signs as the caller. The edge
 * holds no secret: it builds the string to sign from the bytes it received and the policy service checks
 * the signature (`sigV4Login`), answering with a bus session for the access key's principal. One client
 * per access key is kept (LRU-bounded), renewed from the latest session; every request is still checked
 * by the policy service, so a deleted key or a replayed signature is refused at once.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { AuthFailureReason, parseAmzDate, parseSigV4Authorization, SessionSigner, sigV4StringToSign, type ActiveSession } from '@ekm/auth';
import { BusErrorCode } from '@ekm/contracts';
import { EkmClient, EkmError, sigV4Login } from '@ekm/client';
import { AwsError } from '../protocol/aws-error';

/** The received request, as the SigV4 check needs it. */
export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly header: (name: string) => string | undefined;
  readonly body: Buffer;
  readonly requestId: string;
}

/** The authenticated caller: its bus client and what ARNs need. */
export interface AwsCaller {
  readonly client: EkmClient;
  readonly principalId: string;
  readonly tenant: string;
  readonly region: string;
  readonly accessKeyId: string;
}

interface Entry {
  latest: ActiveSession;
  readonly client: EkmClient;
}

const REFUSAL: Readonly<Partial<Record<string, { type: ConstructorParameters<typeof AwsError>[0] }>>> = {
  [AuthFailureReason.AccessKeyUnknown]: { type: 'UnrecognizedClientException' },
  [AuthFailureReason.AccessKeyRevoked]: { type: 'UnrecognizedClientException' },
  [AuthFailureReason.SignatureInvalid]: { type: 'InvalidSignatureException' },
  [AuthFailureReason.TimestampSkew]: { type: 'InvalidSignatureException' },
  [AuthFailureReason.Replayed]: { type: 'InvalidSignatureException' },
  [AuthFailureReason.MalformedCredentials]: { type: 'IncompleteSignatureException' },
  [AuthFailureReason.ReplayCacheFull]: { type: 'ThrottlingException' },
};

export class SigV4Sessions {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly nc: NatsConnection, private readonly maxEntries: number, private readonly serviceKey: string, private readonly timeoutMs = 5000) {}

  /** @throws AwsError in AWS's terms (missing/incomplete signature, refused by the policy service). */
  async authenticate(r: ReceivedRequest): Promise<AwsCaller> {
    const authorization = r.header('authorization');
    if (authorization === undefined) throw new AwsError('MissingAuthenticationTokenException', 'Request is missing Authentication Token');
    const auth = parseSigV4Authorization(authorization);
    if (auth === null) throw new AwsError('IncompleteSignatureException', 'Authorization header requires AWS4-HMAC-SHA256 Credential, SignedHeaders and Signature');
    const amzDate = r.header('x-amz-date');
    if (amzDate === undefined || parseAmzDate(amzDate) === null) throw new AwsError('IncompleteSignatureException', 'X-Amz-Date header is missing or not YYYYMMDDTHHMMSSZ');
    if (r.header('x-amz-security-token') !== undefined) throw new AwsError('UnrecognizedClientException', 'temporary credentials (X-Amz-Security-Token) are not issued by EKM; use an access key of a principal');
    const stringToSign = sigV4StringToSign({ method: r.method, path: r.path, query: r.query, header: r.header, body: r.body, amzDate, auth });
    if (stringToSign === null) throw new AwsError('IncompleteSignatureException', 'a signed header is missing, host is not signed, or X-Amz-Content-Sha256 does not match the body');
    const out = await sigV4Login(this.nc, {
      accessKeyId: auth.accessKeyId, date: auth.date, region: auth.region, service: auth.service, stringToSign, signature: auth.signature, requestId: r.requestId,
    }, this.serviceKey, this.timeoutMs).catch((err: unknown) => {
      if (err instanceof EkmError && err.code === BusErrorCode.ServiceUntrusted) throw new AwsError('KMSInternalException', 'the bus answer to the SigV4 login was not signed by the pinned EKM service identity');
      // EKM_TIMEOUT / EKM_UNAVAILABLE (the SDK classed the NATS error by its class), or a malformed reply.
      throw new AwsError('DependencyTimeoutException', 'the EKM policy service did not answer');
    });
    if (!out.ok) {
      const type = (out.reason !== undefined ? REFUSAL[out.reason]?.type : undefined) ?? (out.code === 'EKM_RATE_LIMITED' ? 'ThrottlingException' : 'UnrecognizedClientException');
      throw new AwsError(type, out.message);
    }
    return { client: this.clientFor(auth.accessKeyId, out.session), principalId: out.principalId, tenant: out.tenant, region: auth.region, accessKeyId: auth.accessKeyId };
  }

  private clientFor(accessKeyId: string, session: ActiveSession): EkmClient {
    const known = this.entries.get(accessKeyId);
    if (known) {
      known.latest = session;
      this.entries.delete(accessKeyId); // re-insert: most recently used last
      this.entries.set(accessKeyId, known);
      return known.client;
    }
    const entry: Entry = { latest: session, client: undefined as unknown as EkmClient };
    const signer = new SessionSigner(() => Promise.resolve(entry.latest));
    (entry as { client: EkmClient }).client = EkmClient.fromConnection(this.nc, { credentials: signer, timeoutMs: this.timeoutMs, maxAttempts: 2 });
    this.entries.set(accessKeyId, entry);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return entry.client;
  }

  get size(): number {
    return this.entries.size;
  }
}

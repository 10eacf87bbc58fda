/**
 * One AWS KMS JSON 1.1 request, from received bytes to the AWS-shaped answer: authenticate (SigV4),
 * pick the operation from `X-Amz-Target`, parse the JSON body, run it as the caller over the bus, and
 * map every failure to AWS's exception name and status. Pure of HTTP framework types.
 */
import { EkmError } from '@ekm/client';
import type { Logger } from '@ekm/telemetry';
import type { ReceivedRequest, SigV4Sessions } from '../auth/sigv4-sessions';
import { AwsError, awsErrorOf } from '../protocol/aws-error';
import { contextOf, type Body } from '../operations/op-context';
import { isOperationName, OPERATIONS } from '../operations/operations';

export const AMZ_JSON = 'application/x-amz-json-1.1';
const TARGET = /^TrentService\.([A-Za-z]{1,64})$/;

export interface KmsAnswer {
  readonly status: number;
  readonly body: object;
  /** The operation name (metrics label), or `unknown`. */
  readonly operation: string;
  /** `ok` or the AWS exception name. */
  readonly outcome: string;
}

export class KmsRequestHandler {
  constructor(private readonly sessions: SigV4Sessions, private readonly logger: Logger, private readonly defaultTenant: string) {}

  async handle(r: ReceivedRequest): Promise<KmsAnswer> {
    const target = TARGET.exec(r.header('x-amz-target') ?? '');
    const operation = target && isOperationName(target[1]!) ? target[1]! : 'unknown';
    try {
      if (r.method !== 'POST' || r.path !== '/') throw new AwsError('UnsupportedOperationException', 'the AWS KMS API is POST / with X-Amz-Target: TrentService.<Operation>');
      const caller = await this.sessions.authenticate(r);
      if (!target) throw new AwsError('UnsupportedOperationException', 'X-Amz-Target must be TrentService.<Operation>');
      const name = target[1]!;
      if (!isOperationName(name)) throw new AwsError('UnsupportedOperationException', `${name} is not supported by EKM`);
      const type = (r.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== AMZ_JSON && type !== 'application/x-amz-json-1.0') throw new AwsError('SerializationException', `Content-Type must be ${AMZ_JSON}`);
      const body = parseBody(r.body);
      const result = await OPERATIONS[name](contextOf(name, caller, r.requestId, this.defaultTenant), body);
      return { status: 200, body: result, operation, outcome: 'ok' };
    } catch (err) {
      const e = this.toAwsError(operation, err);
      return { status: e.status, body: e.toBody(), operation, outcome: e.type };
    }
  }

  private toAwsError(operation: string, err: unknown): AwsError {
    if (err instanceof AwsError) return err;
    if (err instanceof EkmError) return awsErrorOf(operation, err);
    // Names only: an unexpected error may carry anything in its message.
    this.logger.error({ event: 'kms-api-internal-error', operation, err: err instanceof Error ? err.name : typeof err }, 'unexpected failure');
    return new AwsError('KMSInternalException', 'internal error');
  }
}

function parseBody(bytes: Buffer): Body {
  if (bytes.length === 0) return {};
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new AwsError('SerializationException', 'the body is not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new AwsError('SerializationException', 'the body must be a JSON object');
  return v as Body;
}

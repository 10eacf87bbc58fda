/**
 * The machine-readable description of the bus API (docs/bus-api.json): per subject the JSON Schema
 * (draft 2020-12, from zod 4's `z.toJSONSchema`, input side: what a caller sends) of its request body,
 * the queue group, the reply envelope with the error-code table every reply shares and, where the
 * subject has a reply schema (bus-api.replies.ts), the JSON Schema (output side) of its `data`. Deterministic
 * (no timestamps), so the committed file can be compared with a fresh one.
 */
import { z } from 'zod';
import { BusErrorCode, OPERATIONS, REQUEST_ID_HEADER, SERVICES, TRACEPARENT_HEADER, queueGroup, subject, type ServiceName } from '@ekm/contracts';
import { NONCE_HEADER, SESSION_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '@ekm/auth';
import { REQUEST_SCHEMAS } from './bus-api.registry';
import { replySchemaOf } from './bus-api.replies';

/** Where the document is committed, relative to the repository root. */
export const BUS_API_FILE = 'docs/bus-api.json';
/** The command that regenerates it. */
export const BUS_API_COMMAND = 'npm run docs:api';

const toSchema = (schema: z.ZodType, io: 'input' | 'output' = 'input'): Record<string, unknown> => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  return rest;
};

/** The envelope, with the subject's `data` schema when it has one. */
const replyOf = (service: ServiceName, operation: string): Record<string, unknown> => {
  const data = replySchemaOf(service, operation);
  return data === undefined ? { $ref: '#/$defs/reply' } : { $ref: '#/$defs/reply', data: toSchema(data, 'output') };
};

const replyEnvelope = {
  oneOf: [
    { type: 'object', required: ['ok', 'data'], properties: { ok: { const: true }, data: {} } },
    {
      type: 'object',
      required: ['ok', 'error'],
      properties: {
        ok: { const: false },
        error: {
          type: 'object',
          required: ['code', 'message'],
          properties: {
            code: { $ref: '#/$defs/errorCode' },
            message: { type: 'string', description: 'names the rule and the ids involved, never key material or plaintext' },
            details: { type: 'object', description: 'extra machine-readable facts (e.g. retryAfterMs), never secrets' },
          },
        },
      },
    },
  ],
};

/** Builds the whole document. */
export function busApiDocument(): Record<string, unknown> {
  const subjects: Record<string, unknown> = {};
  for (const service of SERVICES) {
    const table = REQUEST_SCHEMAS[service] as Readonly<Record<string, z.ZodType>>;
    for (const operation of OPERATIONS[service] as readonly string[]) {
      subjects[subject(service, operation as never)] = {
        service,
        operation,
        queueGroup: queueGroup(service as ServiceName),
        request: toSchema(table[operation]!),
        reply: replyOf(service as ServiceName, operation),
      };
    }
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $comment: `Generated from the zod request and reply schemas by ${BUS_API_COMMAND} (infra/bus-api/). Do not edit: change the schema and regenerate.`,
    title: 'EKM bus API',
    version: 'v1',
    description: 'Request/reply over NATS: publish a JSON body to a subject, receive the reply envelope. Requests carry the headers below (docs/auth.md). A subject\'s `reply.data`, where given, is the JSON Schema of the `data` of a successful reply; the others are described by the envelope only.',
    headers: {
      [REQUEST_ID_HEADER]: 'idempotency key of the call; a retry carries the same value',
      [TRACEPARENT_HEADER]: 'W3C trace context',
      [SESSION_HEADER]: 'sealed session token from ekm.v1.policy.login',
      [TIMESTAMP_HEADER]: 'request time, milliseconds since the epoch',
      [NONCE_HEADER]: 'random per request (replay protection)',
      [SIGNATURE_HEADER]: 'HMAC-SHA256 under the session key (docs/auth.md)',
    },
    subjects,
    $defs: {
      reply: replyEnvelope,
      errorCode: { enum: Object.values(BusErrorCode) },
    },
  };
}

/** The document as committed: 2-space JSON with a final newline. */
export function busApiText(): string {
  return `${JSON.stringify(busApiDocument(), null, 2)}\n`;
}

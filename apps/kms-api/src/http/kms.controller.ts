/**
 * `POST /` of the AWS KMS JSON 1.1 protocol. Reads the raw body itself (Nest's body parser is off: SigV4
 * signs the exact bytes) and writes AWS's headers (`x-amzn-RequestId`, `x-amzn-ErrorType`).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { All, Controller, Inject, Req, Res } from '@nestjs/common';
import type { RequestMetrics } from '@ekm/service-kit';
import { AMZ_JSON, KmsRequestHandler } from './kms-request';

export const KMS_METRICS = Symbol('KMS_METRICS');
export const MAX_BODY_BYTES = Symbol('MAX_BODY_BYTES');

class BodyTooLargeError extends Error {}

function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        reject(new BodyTooLargeError());
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

@Controller()
export class KmsController {
  constructor(
    private readonly handler: KmsRequestHandler,
    @Inject(KMS_METRICS) private readonly metrics: RequestMetrics,
    @Inject(MAX_BODY_BYTES) private readonly maxBodyBytes: number,
  ) {}

  @All('{*path}')
  async serve(@Req() req: IncomingMessage, @Res() res: ServerResponse): Promise<void> {
    const started = performance.now();
    const requestId = randomUUID();
    const send = (status: number, body: object, errorType?: string): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, {
        'content-type': AMZ_JSON, 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': requestId,
        ...(errorType !== undefined ? { 'x-amzn-errortype': errorType } : {}),
      });
      res.end(text);
    };
    let body: Buffer;
    try {
      body = await readBody(req, this.maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyTooLargeError) send(413, { __type: 'ValidationException', message: `the request body is over ${this.maxBodyBytes} bytes` }, 'ValidationException');
      return;
    }
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const answer = await this.handler.handle({
      method: req.method ?? 'GET', path: q < 0 ? url : url.slice(0, q), query: q < 0 ? '' : url.slice(q + 1), body, requestId,
      header: (name) => {
        const v = req.headers[name];
        return Array.isArray(v) ? v.join(',') : v;
      },
    });
    send(answer.status, answer.body, answer.outcome === 'ok' ? undefined : answer.outcome);
    this.metrics.observe(`kms.${answer.operation}`, answer.outcome, (performance.now() - started) / 1000);
  }
}

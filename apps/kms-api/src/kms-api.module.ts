/** The HTTPS edge's Nest module: one controller, the SigV4 sessions and the request handler. */
import { Module, type DynamicModule } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import type { RequestMetrics } from '@ekm/service-kit';
import type { Logger } from '@ekm/telemetry';
import { SigV4Sessions } from './auth/sigv4-sessions';
import { KMS_METRICS, KmsController, MAX_BODY_BYTES } from './http/kms.controller';
import { KmsRequestHandler } from './http/kms-request';
import type { KmsApiConfig } from './kms-api.config';

@Module({})
export class KmsApiModule {
  static register(deps: { config: KmsApiConfig; nc: NatsConnection; metrics: RequestMetrics; logger: Logger; sessions: SigV4Sessions }): DynamicModule {
    return {
      module: KmsApiModule,
      controllers: [KmsController],
      providers: [
        { provide: KMS_METRICS, useValue: deps.metrics },
        { provide: MAX_BODY_BYTES, useValue: deps.config.maxRequestBytes },
        { provide: KmsRequestHandler, useValue: new KmsRequestHandler(deps.sessions, deps.logger, deps.config.defaultTenant) },
      ],
    };
  }
}

/** Entry point of the audit service: `node dist/apps/audit/src/main.js` (env: docs/development.md). */
import 'reflect-metadata';
import { bootstrapService } from '@ekm/service-kit';
import { AuditModule } from './audit.module';

void bootstrapService({ service: 'audit', module: AuditModule });

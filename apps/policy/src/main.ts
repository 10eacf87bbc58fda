/** Entry point of the policy service: `node dist/apps/policy/src/main.js` (env: docs/development.md). */
import 'reflect-metadata';
import { bootstrapService } from '@ekm/service-kit';
import { PolicyModule } from './policy.module';

void bootstrapService({ service: 'policy', module: PolicyModule });

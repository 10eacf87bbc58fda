/** Entry point of the keys service: `node dist/apps/keys/src/main.js` (env: docs/development.md). */
import 'reflect-metadata';
import { bootstrapService } from '@ekm/service-kit';
import { KeysModule } from './keys.module';

void bootstrapService({ service: 'keys', module: KeysModule });

/** Entry point of the rotation service: `node dist/apps/rotation/src/main.js` (env: docs/development.md). */
import 'reflect-metadata';
import { bootstrapService } from '@ekm/service-kit';
import { RotationModule } from './rotation.module';

void bootstrapService({ service: 'rotation', module: RotationModule });

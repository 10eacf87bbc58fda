/** `npm run docs:api`: writes docs/bus-api.json from the request schemas (see bus-api.document.ts). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUS_API_FILE, busApiText } from './bus-api.document';

// Compiled to dist/infra/bus-api/: the repository root is three levels up.
const target = join(__dirname, '..', '..', '..', BUS_API_FILE);
writeFileSync(target, busApiText());
process.stdout.write(`wrote ${BUS_API_FILE}\n`);

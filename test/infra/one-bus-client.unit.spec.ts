/**
 * Service-to-service calls go through the SDK's client (libs/client), which alone builds signed
 * requests: no service source outside libs/client calls `request()` on a NATS connection. Test
 * harnesses (`*.test-harness.ts`, specs) may, to put raw bytes on the wire.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sources(p);
    return e.name.endsWith('.ts') && !/\.(spec|test-harness|test-fixture)\.ts$/.test(e.name) ? [p] : [];
  });
}

describe('one bus client', () => {
  it('no service source outside libs/client calls request() on a NATS connection', () => {
    const offenders = [...sources(join(ROOT, 'apps')), ...sources(join(ROOT, 'libs'))]
      .filter((f) => !relative(ROOT, f).startsWith('libs/client/'))
      .filter((f) => /\b(nc|conn|connection|this\.nc|this\.conn)\s*\.\s*request(Many)?\s*\(/.test(readFileSync(f, 'utf8').replace(/^\s*(\*|\/\/).*$/gm, '')))
      .map((f) => relative(ROOT, f));
    expect(offenders).toEqual([]);
  });
});

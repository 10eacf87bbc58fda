/**
 * docs/bus-api.json is what `npm run docs:api` generates from the current request schemas. Other
 * changes add and tighten schemas all the time: when this fails, regenerate and commit the file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPERATIONS, SERVICES, subject } from '@ekm/contracts';
import { REPLY_SCHEMAS } from '../../infra/bus-api/bus-api.replies';
import { BUS_API_COMMAND, BUS_API_FILE, busApiDocument, busApiText } from '../../infra/bus-api/bus-api.document';

const ROOT = join(__dirname, '..', '..');

describe('docs/bus-api.json', () => {
  it('is up to date with the request schemas', () => {
    const committed = readFileSync(join(ROOT, BUS_API_FILE), 'utf8');
    if (committed !== busApiText()) {
      throw new Error(`${BUS_API_FILE} is stale (a request schema or subject changed): run \`${BUS_API_COMMAND}\` and commit ${BUS_API_FILE}`);
    }
  });

  it('describes every subject with a JSON Schema of its request and the shared reply envelope', () => {
    const doc = busApiDocument() as { subjects: Record<string, { request: { type?: string }; reply: unknown }>; $defs: { errorCode: { enum: string[] } } };
    const all = SERVICES.flatMap((s) => (OPERATIONS[s] as readonly string[]).map((o) => subject(s, o as never)));
    expect(Object.keys(doc.subjects).sort()).toEqual([...all].sort());
    for (const s of all) expect(doc.subjects[s]!.reply).toMatchObject({ $ref: '#/$defs/reply' });
    expect(doc.$defs.errorCode.enum).toContain('EKM_KEY_NOT_FOUND');
  });

  it('states the rules of a request (required fields, bounds, no unknown fields)', () => {
    const doc = busApiDocument() as { subjects: Record<string, { request: { required?: string[]; additionalProperties?: unknown; properties?: Record<string, Record<string, unknown>> } }> };
    const gdk = doc.subjects['ekm.v1.keys.generate-data-key']!.request;
    expect(gdk.required).toEqual(expect.arrayContaining(['keyId']));
    expect(gdk.additionalProperties).toBe(false);
    expect(gdk.properties!.keySpec).toMatchObject({ enum: ['AES_256'] });
    expect(gdk.properties!.numberOfBytes).toMatchObject({ type: 'integer' });
  });

  it('gives every subject of every service a reply data schema (no gaps left)', () => {
    const doc = busApiDocument() as { subjects: Record<string, { reply: { data?: { properties?: Record<string, unknown> } } }> };
    for (const service of SERVICES) {
      const covered = Object.keys(REPLY_SCHEMAS[service]);
      expect(covered.sort()).toEqual([...(OPERATIONS[service] as readonly string[])].sort());
      for (const o of covered) expect(doc.subjects[subject(service, o as never)]!.reply.data).toBeDefined();
    }
    expect(Object.keys(doc.subjects['ekm.v1.keys.generate-data-key']!.reply.data!.properties!).sort()).toEqual(['ciphertextBlob', 'keyId', 'keyVersion', 'plaintext']);
    expect(Object.keys(doc.subjects['ekm.v1.policy.create-access-key']!.reply.data!.properties!).sort()).toEqual(['accessKeyId', 'createdAt', 'deletedAt', 'principalId', 'secretAccessKey', 'status', 'tenant']);
    expect(Object.keys(doc.subjects['ekm.v1.rotation.check-version-retirement']!.reply.data!.properties!).sort()).toEqual(['allowed', 'keyId', 'liveAssets', 'sample', 'version']);
    expect(Object.keys(doc.subjects['ekm.v1.audit.query']!.reply.data!.properties!).sort()).toEqual(['entries', 'nextCursor']);
    expect(Object.keys(doc.subjects['ekm.v1.audit.destruction-receipt']!.reply.data!.properties!).sort()).toEqual(['algorithm', 'keyId', 'payload', 'publicKey', 'receipt', 'signature']);
  });
});

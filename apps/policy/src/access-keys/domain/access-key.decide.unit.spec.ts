import fc from 'fast-check';
import { decideCreate, decideDelete, foldAccessKey, MAX_ACCESS_KEYS_PER_PRINCIPAL, type AccessKeyEvent } from './access-key.decide';

const meta = { actor: 'tester', now: '2026-01-01T00:00:00.000Z' };
const created: AccessKeyEvent = { type: 'AccessKeyCreated', data: { accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', principalId: 'p1', tenant: 't1' }, meta };

describe('access key decider', () => {
  it('creates a key once; a second create of the same id is refused', () => {
    const r = decideCreate(foldAccessKey([]), { accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', principalId: 'p1', tenant: 't1', activeOfPrincipal: 0 }, meta);
    expect(r).toEqual({ ok: true, events: [created] });
    expect(decideCreate(foldAccessKey([created]), { accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', principalId: 'p1', tenant: 't1', activeOfPrincipal: 1 }, meta))
      .toEqual({ ok: false, rejection: { code: 'ACCESS_KEY_EXISTS', accessKeyId: 'AKIAAAAAAAAAAAAAAAAA' } });
  });

  it('refuses a third live key for one principal (rotation: create the second, delete the first)', () => {
    const r = decideCreate(foldAccessKey([]), { accessKeyId: 'AKIABBBBBBBBBBBBBBBB', principalId: 'p1', tenant: 't1', activeOfPrincipal: MAX_ACCESS_KEYS_PER_PRINCIPAL }, meta);
    expect(r).toEqual({ ok: false, rejection: { code: 'ACCESS_KEY_LIMIT', principalId: 'p1', active: 2 } });
  });

  it('deletes a live key once; deleting again or an unknown key is ACCESS_KEY_NOT_FOUND', () => {
    const del = decideDelete(foldAccessKey([created]), 'AKIAAAAAAAAAAAAAAAAA', 'rotated', meta);
    expect(del.ok).toBe(true);
    const after = foldAccessKey([created, ...(del.ok ? del.events : [])]);
    expect(after.status).toBe('Deleted');
    expect(decideDelete(after, 'AKIAAAAAAAAAAAAAAAAA', 'again', meta)).toEqual({ ok: false, rejection: { code: 'ACCESS_KEY_NOT_FOUND', accessKeyId: 'AKIAAAAAAAAAAAAAAAAA' } });
    expect(decideDelete(foldAccessKey([]), 'AKIAZZZZZZZZZZZZZZZZ', 'x', meta).ok).toBe(false);
  });

  it('property: no event sequence revives a deleted key', () => {
    fc.assert(fc.property(fc.array(fc.constantFrom('create', 'delete'), { maxLength: 12 }), (ops) => {
      let events: AccessKeyEvent[] = [];
      let deleted = false;
      for (const op of ops) {
        const s = foldAccessKey(events);
        const d = op === 'create'
          ? decideCreate(s, { accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', principalId: 'p1', tenant: 't1', activeOfPrincipal: 0 }, meta)
          : decideDelete(s, 'AKIAAAAAAAAAAAAAAAAA', 'x', meta);
        if (d.ok) events = [...events, ...d.events];
        if (foldAccessKey(events).status === 'Deleted') deleted = true;
        if (deleted) expect(foldAccessKey(events).status).toBe('Deleted');
      }
    }));
  });
});

/** Each key is one event stream, `key-<keyId>`; its recorded events fold into the domain's KeyState. */
import type { RecordedEvent } from '@ekm/event-store';
import type { KeyEvent } from '../domain';

export const KEY_STREAM_PREFIX = 'key-';

export const keyStreamId = (keyId: string): string => `${KEY_STREAM_PREFIX}${keyId}`;

/** A recorded event of a key stream as the domain's event (the log only holds KeyEvents there). */
export const toKeyEvent = (e: Pick<RecordedEvent, 'type' | 'data' | 'meta'>): KeyEvent => ({ type: e.type, data: e.data, meta: e.meta }) as KeyEvent;

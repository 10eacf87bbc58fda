/**
 * Writing a secret file the first time a service starts (the sealed root key, the development auth
 * secret): several processes may start at once, and none may overwrite the file another created.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, unlinkSync, writeSync } from 'node:fs';

/**
 * Writes `text` to `path` unless it exists: a temp file (mode 0600) is fsynced, then link()ed into
 * place, which is atomic and fails on an existing file. Losing the race is not an error: the winner's
 * file stays, and the caller reads it.
 */
export function createExclusive(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.${randomUUID()}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    unlinkSync(tmp);
  }
}

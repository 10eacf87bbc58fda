import type { CreateAlias, DeleteAlias, TagKey, UntagKey, UpdateDescription } from './key.commands';
import { MAX_DESCRIPTION_LENGTH } from './key.limits';
import { accept, reject, type Decision } from './key.rejections';
import type { KeyState } from './key.state';
import { ANY_LIVE_STATUS, isRejection, loadKey, tagsRejection } from './key.decide-support';
import { aliasProblem, textProblem } from './key.validation';

// Attributes stay editable in every state but Destroyed: an operator may still label a disabled,
// revoked or pending-deletion key (and aliases of a destroyed key are already released).

/**
 * Checks the alias within this key only. Aliases are unique across all keys: the alias projection's
 * unique index (committed inline with the append) refuses a name another key already holds.
 */
export const createAlias = (cmd: CreateAlias, s: KeyState): Decision => {
  const { keyId, alias } = cmd.data;
  const key = loadKey(s, keyId, 'CreateAlias', ANY_LIVE_STATUS);
  if (isRejection(key)) return reject(key);
  const problem = aliasProblem(alias);
  if (problem !== null) return reject({ code: 'INVALID_ALIAS', keyId, alias, problem });
  if (key.aliases.has(alias)) return reject({ code: 'ALIAS_ALREADY_EXISTS', keyId, alias });
  return accept({ type: 'AliasCreated', data: { keyId, alias }, meta: cmd.meta });
};

export const deleteAlias = (cmd: DeleteAlias, s: KeyState): Decision => {
  const { keyId, alias } = cmd.data;
  if (s.status === 'Absent') return reject({ code: 'KEY_NOT_FOUND', keyId });
  if (!s.aliases.has(alias)) return reject({ code: 'ALIAS_NOT_FOUND', keyId, alias });
  return accept({ type: 'AliasDeleted', data: { keyId, alias }, meta: cmd.meta });
};

/** Records only tags that change; tagging with the same values is an accepted no-op (AWS TagResource). */
export const tagKey = (cmd: TagKey, s: KeyState): Decision => {
  const { keyId, tags } = cmd.data;
  const key = loadKey(s, keyId, 'TagKey', ANY_LIVE_STATUS);
  if (isRejection(key)) return reject(key);
  const bad = tagsRejection(keyId, key.tags, tags);
  if (bad !== null) return reject(bad);
  const changed = Object.fromEntries(Object.entries(tags).filter(([k, v]) => key.tags[k] !== v));
  if (Object.keys(changed).length === 0) return accept();
  return accept({ type: 'KeyTagged', data: { keyId, tags: changed }, meta: cmd.meta });
};

/** Removing an absent tag is an accepted no-op (AWS UntagResource). */
export const untagKey = (cmd: UntagKey, s: KeyState): Decision => {
  const { keyId, tagKeys } = cmd.data;
  const key = loadKey(s, keyId, 'UntagKey', ANY_LIVE_STATUS);
  if (isRejection(key)) return reject(key);
  if (!Array.isArray(tagKeys) || !tagKeys.every((k) => typeof k === 'string'))
    return reject({ code: 'INVALID_ARGUMENT', keyId, field: 'tagKeys', problem: 'must be a list of strings' });
  const present = [...new Set(tagKeys)].filter((k) => Object.hasOwn(key.tags, k));
  if (present.length === 0) return accept();
  return accept({ type: 'KeyUntagged', data: { keyId, tagKeys: present }, meta: cmd.meta });
};

export const updateDescription = (cmd: UpdateDescription, s: KeyState): Decision => {
  const { keyId, description } = cmd.data;
  const key = loadKey(s, keyId, 'UpdateDescription', ANY_LIVE_STATUS);
  if (isRejection(key)) return reject(key);
  const problem = textProblem(description, 0, MAX_DESCRIPTION_LENGTH);
  if (problem !== null) return reject({ code: 'INVALID_ARGUMENT', keyId, field: 'description', problem });
  if (description === key.description) return accept();
  return accept({ type: 'KeyDescriptionUpdated', data: { keyId, description }, meta: cmd.meta });
};

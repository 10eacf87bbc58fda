/**
 * Glob patterns of policy documents: `*` is any run of characters (also empty), `?` one character,
 * everything else literal. Compiled once per policy set, not per decision.
 */
const cache = new Map<string, RegExp>();

export function globToRegExp(pattern: string): RegExp {
  const hit = cache.get(pattern);
  if (hit) return hit;
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[\\s\\S]*').replace(/\?/g, '[\\s\\S]');
  const re = new RegExp(`^${body}$`);
  if (cache.size > 10_000) cache.clear();
  cache.set(pattern, re);
  return re;
}

/** True when `value` matches `pattern`; patterns without `*`/`?` compare exactly (the common, fast case). */
export function globMatch(pattern: string, value: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern === value;
  return globToRegExp(pattern).test(value);
}

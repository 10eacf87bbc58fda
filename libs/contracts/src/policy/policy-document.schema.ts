/**
 * The zod schema of a policy document: the body of `put-policy` and the `document` of every policy
 * reply. Errors name the path of the bad field (`statements[1].conditions[0].value: is required`)
 * through `validate`. The policy engine evaluates what this schema accepts.
 */
import { z } from 'zod';
import { actionProblem } from './actions';

const SID = /^[A-Za-z0-9_.-]{1,64}$/;
/** `*`, or `<service>:<Operation glob>` such as `keys:GenerateDataKey`, `keys:Generate*`, `keys:*`. */
const ACTION = /^(\*|[a-z][a-z0-9-]{0,31}:[A-Za-z0-9*?]{1,64})$/;
/** Principal ids are opaque printable strings (auth issues them); `*` is any principal of the policy's scope. */
const PRINCIPAL = /^[\x21-\x7e]{1,256}$/;
const ROLE = /^[A-Za-z0-9_.:-]{1,64}$/;
const RESOURCE = /^[\x21-\x7e]{1,512}$/;
const CONTEXT_KEY = /^[\x20-\x7e]{1,256}$/;

const isoTime = z.string().refine((v) => /^\d{4}-\d{2}-\d{2}T/.test(v) && !Number.isNaN(Date.parse(v)), 'must be an ISO-8601 date-time');
const contextKey = z.string().regex(CONTEXT_KEY, 'must be 1..256 printable ASCII characters');
const contextValue = z.string().max(1024);

export const ConditionSchema = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('equals'), key: contextKey, value: contextValue }),
  z.strictObject({ op: z.literal('in'), key: contextKey, values: z.array(contextValue).min(1).max(256) }),
  z.strictObject({ op: z.literal('glob'), key: contextKey, pattern: contextValue }),
  z.strictObject({ op: z.literal('present'), key: contextKey }),
  z.strictObject({ op: z.literal('before'), time: isoTime }),
  z.strictObject({ op: z.literal('after'), time: isoTime }),
], { error: (i) => (i.code === 'invalid_union' ? 'op must be one of equals, in, glob, present, before, after' : undefined) });

export const StatementSchema = z.strictObject({
  sid: z.string().regex(SID, 'must be 1..64 characters of A-Z a-z 0-9 _ . -'),
  effect: z.enum(['allow', 'deny']),
  principals: z.array(z.string().regex(PRINCIPAL, 'must be a principal id or *')).min(1).max(256).optional(),
  roles: z.array(z.string().regex(ROLE, 'must be 1..64 characters of A-Z a-z 0-9 _ . : -')).min(1).max(64).optional(),
  actions: z.array(z.string().regex(ACTION, 'must be * or <service>:<Operation>, globs allowed (keys:Generate*)')
    .superRefine((a, ctx) => { const why = actionProblem(a); if (why) ctx.addIssue({ code: 'custom', message: why }); })).min(1).max(256),
  resources: z.array(z.string().regex(RESOURCE, 'must be *, a key id, alias/<name>, tenant:<t> or tag:<k>=<v>')).min(1).max(256),
  conditions: z.array(ConditionSchema).max(64).optional(),
}).refine((s) => s.principals !== undefined || s.roles !== undefined, { message: 'must name principals or roles (or both)', path: ['principals'] });

export const PolicyDocumentSchema = z.strictObject({
  description: z.string().max(1024).optional(),
  statements: z.array(StatementSchema).min(1).max(1000),
}).superRefine((doc, ctx) => {
  const seen = new Set<string>();
  doc.statements.forEach((s, i) => {
    if (seen.has(s.sid)) ctx.addIssue({ code: 'custom', path: ['statements', i, 'sid'], message: `duplicates an earlier statement id ${s.sid}` });
    seen.add(s.sid);
  });
});

export type PolicyDocumentInput = z.input<typeof PolicyDocumentSchema>;
export type PolicyConditionInput = z.input<typeof ConditionSchema>;

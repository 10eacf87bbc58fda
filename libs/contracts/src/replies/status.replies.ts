/** The `status` reply every service answers: version, uptime and the outbox relay of this instance. */
import { z } from 'zod';

export const ServiceStatusReply = z.object({
  service: z.string().min(1),
  /** Version of the `ekm` package. */
  version: z.string().min(1),
  instance: z.string().min(1),
  startedAt: z.string().min(1),
  uptimeSeconds: z.number().nonnegative(),
  /** `null` for a service without an event log; `{ error }` when Postgres cannot be read. */
  relay: z.union([z.null(), z.object({ error: z.string() }).strict(), z.record(z.string(), z.unknown())]),
}).strict().readonly();
export type ServiceStatusReply = z.infer<typeof ServiceStatusReply>;

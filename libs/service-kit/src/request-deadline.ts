/**
 * The deadline of the request a service is serving, for the calls it makes to other services meanwhile:
 * the transport runs each handler inside {@link withRequestDeadline}, and a service's SDK client reads
 * {@link requestDeadline} (`EkmClient.fromConnection(nc, { deadline: requestDeadline })`), so a policy
 * call made for a request never outlives the caller's wait. Async context, so nothing threads it through
 * ports that have no business knowing about it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const scope = new AsyncLocalStorage<number>();

/** Runs `fn` (and everything it awaits) as serving a request due at `deadline` (epoch ms). */
export const withRequestDeadline = <T>(deadline: number, fn: () => T): T => scope.run(deadline, fn);

/** The deadline (epoch ms) of the request being served in this async context; undefined outside one. */
export const requestDeadline = (): number | undefined => scope.getStore();

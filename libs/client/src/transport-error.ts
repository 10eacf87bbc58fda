/** What a failed NATS request means to an EKM caller, decided by the NATS client's error classes. */
import { NoRespondersError, RequestError, TimeoutError } from '@nats-io/transport-node';
import { BusErrorCode } from '@ekm/contracts';
import { EkmError } from './ekm-error';

/** Classifies a failed request by the NATS client's own error classes (never by its message text). */
export function toTransportError(err: unknown, subj: string, timeoutMs: number): EkmError {
  if (err instanceof NoRespondersError || (err instanceof RequestError && err.isNoResponders())) {
    return new EkmError({ code: BusErrorCode.Unavailable, message: `no service answers ${subj}` });
  }
  if (err instanceof TimeoutError) {
    return new EkmError({ code: BusErrorCode.Timeout, message: `no reply on ${subj} within ${timeoutMs} ms` });
  }
  const text = err instanceof Error ? `${err.name} ${err.message}` : String(err);
  return new EkmError({ code: BusErrorCode.Unavailable, message: `bus error on ${subj}: ${text}` });
}

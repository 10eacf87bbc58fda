/**
 * Nest's default RPC exception filter swaps any error for `{status:'error',message:'Internal server
 * error'}` and logs it its own way. This filter hands the original error back to EkmNatsTransport,
 * which maps it to EKM_INTERNAL with a request id and logs it once, without the request body.
 */
import { Catch, type RpcExceptionFilter } from '@nestjs/common';
import { throwError, type Observable } from 'rxjs';

@Catch()
export class RethrowRpcFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}

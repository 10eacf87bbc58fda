/** Routes Nest's own log lines into the service's pino logger, so every line is JSON. */
import type { LoggerService } from '@nestjs/common';
import type { Logger } from '@ekm/telemetry';

const context = (params: unknown[]): { context?: string } => {
  const last = params[params.length - 1];
  return typeof last === 'string' ? { context: last } : {};
};

export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.logger.info(context(params), String(message));
  }
  error(message: unknown, ...params: unknown[]): void {
    const stack = params.length > 1 && typeof params[0] === 'string' ? { stack: params[0] } : {};
    this.logger.error({ ...context(params), ...stack }, message instanceof Error ? message.message : String(message));
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.logger.warn(context(params), String(message));
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.logger.debug(context(params), String(message));
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.logger.trace(context(params), String(message));
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.logger.fatal(context(params), String(message));
  }
}

import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';
import { levels, type Bindings, type ChildLoggerOptions } from 'pino';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

// 'silent' has no number in pino's table: nothing is enabled under it.
const rank = (level: string): number => levels.values[level] ?? Infinity;

/**
 * A request's logger that makes its pino child (bound to the request id) only when the request
 * logs a line at an enabled level. Making a child serializes its bindings and prepares redaction,
 * which the benchmark's CPU profiles showed on every request, while at the usual level (warn)
 * almost no request logs anything. Once made, every call goes to the child, so a line is exactly
 * what the child would have written.
 */
class LazyChild implements FastifyBaseLogger {
  #made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  private made(): FastifyBaseLogger {
    return (this.#made ??= this.parent.child(this.bindings, this.options));
  }

  private logAt(level: Level, args: unknown[]): void {
    const target = this.#made ?? (rank(level) >= rank(this.parent.level) ? this.made() : undefined);
    if (target) (target as unknown as Record<Level, (...a: unknown[]) => void>)[level](...args);
  }

  get level(): string {
    return this.#made?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.made().level = level;
  }

  // Methods on the prototype, not arrow properties: nothing is allocated per request but this.
  fatal(...args: unknown[]): void {
    this.logAt('fatal', args);
  }
  error(...args: unknown[]): void {
    this.logAt('error', args);
  }
  warn(...args: unknown[]): void {
    this.logAt('warn', args);
  }
  info(...args: unknown[]): void {
    this.logAt('info', args);
  }
  debug(...args: unknown[]): void {
    this.logAt('debug', args);
  }
  trace(...args: unknown[]): void {
    this.logAt('trace', args);
  }
  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.made().child(bindings, options);
  }
}

/**
 * Fastify's childLoggerFactory for the API app. A route with its own level or serializers gets
 * its child at once, as fastify's default factory would make it.
 */
export const requestLoggerFactory: NonNullable<FastifyServerOptions['childLoggerFactory']> = (
  logger,
  bindings,
  options,
) =>
  options.level !== undefined || options.serializers !== undefined
    ? logger.child(bindings, options)
    : new LazyChild(logger, bindings, options);

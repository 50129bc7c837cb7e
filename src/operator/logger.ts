/**
 * The operator's logger: one JSON object per line for log collectors, readable without pino's
 * tooling (ISO time, level names), with obvious secret material redacted.
 */
import { pino, stdTimeFunctions, type DestinationStream, type LevelWithSilent, type Logger } from 'pino';

export interface LoggerOptions {
  level: LevelWithSilent;
  /** Goes on every line (`name`), e.g. `selfhost-operator`. */
  name: string;
  /** Default: stdout, written synchronously (see below). */
  destination?: DestinationStream;
}

/**
 * Keys whose values never reach a log line, at the top level or one object deep (pino's redaction
 * takes explicit paths, not "anywhere"). Secrets' `data` is not listed: the operator never reads
 * Secrets, and redacting every `data` key would hide ConfigMap contents that do help debugging.
 */
export const REDACT_PATHS: readonly string[] = [
  'token',
  '*.token',
  'bearerToken',
  '*.bearerToken',
  'password',
  '*.password',
  'headers.authorization',
  'headers.Authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
];

/** Censored rather than removed: a reader still sees that the field was there. */
export const REDACTED = '[REDACTED]';

export function createLogger(options: LoggerOptions): Logger {
  // Synchronous stdout: the operator logs little, and a deposed leader calls process.exit right
  // after logging why; a buffered line would be lost exactly when it matters.
  const destination = options.destination ?? pino.destination({ dest: 1, sync: true });
  return pino(
    {
      level: options.level,
      // Only the name: pid is always 1 in a pod and the hostname is the pod name, which the
      // log collector already attaches.
      base: { name: options.name },
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    },
    destination,
  );
}

/** A child logger whose lines carry the reconcile's ID (the controller core's field name). */
export function withReconcileId(logger: Logger, id: string): Logger {
  return logger.child({ reconcileID: id });
}

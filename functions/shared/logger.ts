/**
 * A deliberately small structured logger: one JSON object per line on stdout.
 *
 * Callers pass named fields, never whole events or request items, so what can
 * reach CloudWatch is visible at every call site. Lambda forwards stdout lines
 * as they are, so these stay valid JSON in CloudWatch Logs Insights.
 */
export type LogLevel = "DEBUG" | "INFO" | "WARN" | "ERROR";
export type LogFields = Record<string, string | number | boolean | undefined>;

const LEVEL_ORDER: Record<LogLevel, number> = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40 };

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds these fields to every line (for example the Lambda request id). */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  service: string;
  level?: string;
  write?: (line: string) => void;
  now?: () => Date;
}

function parseLevel(level: string | undefined): LogLevel {
  const upper = (level ?? "INFO").toUpperCase();
  return upper in LEVEL_ORDER ? (upper as LogLevel) : "INFO";
}

export function createLogger(options: LoggerOptions, baseFields: LogFields = {}): Logger {
  const threshold = LEVEL_ORDER[parseLevel(options.level)];
  const write = options.write ?? ((line: string) => void process.stdout.write(line + "\n"));
  const now = options.now ?? (() => new Date());
  const emit = (level: LogLevel) => (message: string, fields: LogFields = {}) => {
    if (LEVEL_ORDER[level] < threshold) return;
    write(JSON.stringify({ timestamp: now().toISOString(), level, service: options.service, message, ...baseFields, ...fields }));
  };
  return {
    debug: emit("DEBUG"),
    info: emit("INFO"),
    warn: emit("WARN"),
    error: emit("ERROR"),
    child: (fields) => createLogger(options, { ...baseFields, ...fields }),
  };
}

/** Name and message of an error, safe to log: AWS SDK errors never carry the token. */
export function describeError(error: unknown): LogFields {
  if (error instanceof Error) return { errorName: error.name, errorMessage: error.message.slice(0, 500) };
  return { errorName: "NonError", errorMessage: String(error).slice(0, 500) };
}

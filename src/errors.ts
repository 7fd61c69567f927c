/** Where a failure comes from: the user can fix `user` errors; `internal` ones are our bugs. */
export type ErrorSource = 'user' | 'internal';

/** The one base error: a stable code, who can fix it, and the underlying cause. */
export class ScalrServerlessError extends Error {
  readonly code: string;
  readonly source: ErrorSource;
  /** What the user can do about it; printed on its own line. */
  readonly hint?: string;

  constructor(
    code: string,
    message: string,
    options: { source?: ErrorSource; cause?: unknown; hint?: string } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'ScalrServerlessError';
    this.code = code;
    this.source = options.source ?? 'user';
    this.hint = options.hint;
  }
}

/** Bad flags, settings or arguments: exit code 2, nothing was sent anywhere. */
export class UsageError extends ScalrServerlessError {
  constructor(message: string, hint?: string) {
    super('USAGE', message, { source: 'user', hint });
    this.name = 'UsageError';
  }
}

/** A failed AWS call, worded once for every resource: `creating Lambda Function (name): cause`. */
export class AwsOperationError extends ScalrServerlessError {
  constructor(action: string, kindLabel: string, name: string, cause: unknown, hint?: string) {
    super('AWS', `${action} ${kindLabel} (${name}): ${describeCause(cause)}`, { source: 'user', cause, hint });
    this.name = 'AwsOperationError';
  }
}

/** The state file is unreadable, from a newer version, or locked by another run. */
export class StateError extends ScalrServerlessError {
  constructor(code: string, message: string, hint?: string, cause?: unknown) {
    super(code, message, { source: 'user', hint, cause });
    this.name = 'StateError';
  }
}

/** A failed Scalr API call, with what to do about it. */
export class ScalrApiError extends ScalrServerlessError {
  readonly status?: number;
  constructor(message: string, options: { status?: number; hint?: string; cause?: unknown } = {}) {
    super('SCALR', message, { source: 'user', hint: options.hint, cause: options.cause });
    this.name = 'ScalrApiError';
    this.status = options.status;
  }
}

/** An invariant we broke: printed as a bug, with the stack under --debug. */
export class InternalError extends ScalrServerlessError {
  constructor(message: string, cause?: unknown) {
    super('INTERNAL', message, { source: 'internal', cause });
    this.name = 'InternalError';
  }
}

/** The short text of any thrown value: AWS error name and message where there is one. */
export function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const name = cause.name && cause.name !== 'Error' ? `${cause.name}: ` : '';
    return `${name}${cause.message}`;
  }
  return String(cause);
}

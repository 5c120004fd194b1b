import type { ErrorCode } from '@confab/protocol';

/** A failure to report to the client as an `error` frame with a stable code. */
export class ConfabError extends Error {
  override readonly name = 'ConfabError';
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string, details: { field?: string; retryAfterMs?: number } = {}) {
    super(message);
    this.code = code;
    this.field = details.field;
    this.retryAfterMs = details.retryAfterMs;
  }
}

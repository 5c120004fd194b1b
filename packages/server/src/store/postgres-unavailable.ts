// SQLSTATE codes after which the same request can succeed later: the server is down, starting,
// shutting down or out of connections, or the transaction lost a race it may retry.
const RETRYABLE_SQLSTATES: ReadonlySet<string> = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '53000', // insufficient_resources
  '53100', // disk_full
  '53200', // out_of_memory
  '53300', // too_many_connections
  '57014', // query_canceled, which a statement timeout raises
  '57P01', // admin_shutdown, which pg_terminate_backend raises too
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '58000', // system_error
  '58030', // io_error
]);

// Errors of the socket under the pg client.
const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'ETIMEDOUT',
]);

// Messages of errors that the pg client and pool (8.x) raise without a code.
const CLIENT_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Query read timeout',
  'Client has encountered a connection error',
  'Client was closed and is not queryable',
  'Cannot use a pool after calling end on the pool',
];

/**
 * Returns whether an error from the pg client means that PostgreSQL cannot be reached or cannot
 * commit right now, as opposed to a fault in the request itself.
 */
export function isPostgresUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) {
    return false;
  }

  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    // Class 08 is "connection exception".
    if (code.startsWith('08') || RETRYABLE_SQLSTATES.has(code) || NETWORK_ERROR_CODES.has(code)) {
      return true;
    }
  }

  if (error instanceof AggregateError) {
    return error.errors.some((inner) => isPostgresUnavailable(inner));
  }

  return CLIENT_MESSAGES.some((message) => error.message.includes(message));
}

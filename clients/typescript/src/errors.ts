/**
 * Error codes the server sends. HTTP codes are in docs/http-api.md ("Error codes"), WebSocket
 * codes in docs/websocket.md ("Limits and error codes"). The client adds NETWORK_ERROR (the
 * request or connection failed before the server answered), BAD_RESPONSE (the answer was not the
 * documented JSON), NOT_AUTHENTICATED (no token: log in first) and CLOSED (the client was closed).
 */
export type ErrorCode =
  // HTTP API
  | "MISSING_AUTHORIZATION"
  | "TOKEN_EXPIRED"
  | "INVALID_CREDENTIALS"
  | "ACCOUNT_LOCKED"
  | "REMOTE_ACCESS_DENIED"
  | "ALREADY_SET_UP"
  | "NAMESPACE_RESTORING"
  | "RATE_LIMIT_EXCEEDED"
  | "REQUEST_TOO_LARGE"
  | "INVALID_INPUT"
  | "EMPTY_SQL"
  | "PARAMS_WITH_BATCH"
  | "INVALID_PARAMETER"
  | "INVALID_SQL"
  | "NOT_FOUND"
  | "ALREADY_EXISTS"
  | "DUPLICATE_KEY"
  | "CONSTRAINT_VIOLATION"
  | "INCOMPATIBLE_TYPE_CHANGE"
  | "PROTECTED_COLUMN"
  | "TYPE_MISMATCH"
  | "SQL_EXECUTION_ERROR"
  | "UNSUPPORTED"
  | "PERMISSION_DENIED"
  | "TIMEOUT"
  | "INTERNAL_ERROR"
  // WebSocket
  | "AUTH_REQUIRED"
  | "UNAUTHORIZED"
  | "AUTH_TIMEOUT"
  | "IDLE_TIMEOUT"
  | "AUTH_REVOKED"
  | "SHUTDOWN"
  | "PROTOCOL"
  | "UNSUPPORTED_DATA"
  | "MESSAGE_TOO_LARGE"
  | "INVALID_SUBSCRIPTION_ID"
  | "SUBSCRIPTION_LIMIT_EXCEEDED"
  | "BATCH_FETCH_FAILED"
  | "SUBSCRIPTION_FAILED"
  | "OVERFLOW"
  | "RESUME_UNAVAILABLE"
  | "KILLED"
  | "SCHEMA_CHANGED"
  // client side
  | "NETWORK_ERROR"
  | "BAD_RESPONSE"
  | "NOT_AUTHENTICATED"
  | "CLOSED"
  // a code this client version does not know yet
  | (string & {});

/** Base class of every error the client throws or reports; branch on `code`. */
export class KalamError extends Error {
  /** The server's error code (or one of the client-side codes of {@link ErrorCode}). */
  readonly code: ErrorCode;
  /** HTTP status of the failed request, when it came from the HTTP API. */
  readonly status?: number;

  constructor(code: ErrorCode, message: string, status?: number) {
    super(message);
    this.name = "KalamError";
    this.code = code;
    this.status = status;
  }
}

/** A login, refresh, logout or token failure (HTTP 401/403, or a WebSocket auth code). */
export class AuthError extends KalamError {
  constructor(code: ErrorCode, message: string, status?: number) {
    super(code, message, status);
    this.name = "AuthError";
  }
}

/** A failed SQL request: the statement was refused or failed (see `code`). */
export class SqlError extends KalamError {
  constructor(code: ErrorCode, message: string, status?: number) {
    super(code, message, status);
    this.name = "SqlError";
  }
}

/** The network failed before the server answered (fetch rejected, connection refused, ...). */
export class NetworkError extends KalamError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("NETWORK_ERROR", message);
    this.name = "NetworkError";
    if (options?.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}

/**
 * An error of a live query or of the live connection, reported to `onError` handlers.
 * `willRecover` tells whether the client handles it by itself (reconnecting, resuming from the
 * last `_seq`, or reloading the result): OVERFLOW, RESUME_UNAVAILABLE, SCHEMA_CHANGED,
 * TOKEN_EXPIRED (with a refresh token), SHUTDOWN and network failures are recovered from;
 * everything else ends the subscription.
 */
export class LiveQueryError extends KalamError {
  /** The subscription it concerns; undefined for connection-level errors. */
  readonly subscriptionId?: string;
  /** True when the client recovers by itself (the subscription stays active). */
  readonly willRecover: boolean;

  constructor(code: ErrorCode, message: string, opts: { subscriptionId?: string; willRecover: boolean }) {
    super(code, message);
    this.name = "LiveQueryError";
    this.subscriptionId = opts.subscriptionId;
    this.willRecover = opts.willRecover;
  }
}

const authCodes = new Set<string>([
  "MISSING_AUTHORIZATION",
  "TOKEN_EXPIRED",
  "INVALID_CREDENTIALS",
  "ACCOUNT_LOCKED",
  "REMOTE_ACCESS_DENIED",
  "UNAUTHORIZED",
  "AUTH_REVOKED",
  "NOT_AUTHENTICATED",
]);

/** errorFromResponse builds the typed error for an HTTP error envelope. */
export function errorFromResponse(code: string, message: string, status: number): KalamError {
  if (authCodes.has(code)) return new AuthError(code, message, status);
  return new SqlError(code, message, status);
}

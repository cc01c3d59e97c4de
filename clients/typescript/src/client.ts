import { AuthError, KalamError, NetworkError, errorFromResponse } from "./errors.js";
import { LiveConnection, Subscription, type LiveOptions, type SubscribeOptions, type SubscriptionHandlers } from "./live.js";
import { LiveView, type LiveViewOptions } from "./view.js";
import { encodeParams, int64Columns, rowObjects, type Column, type Int64Mode, type Row, type SqlParam } from "./values.js";

/** Access and refresh tokens with their expiry times (ms since the epoch). */
export interface Tokens {
  accessToken: string;
  refreshToken?: string;
  /** When the access token expires (from its `exp` claim). */
  accessExpiresAt: number;
  /** When the refresh token expires, when known. */
  refreshExpiresAt?: number;
}

/** The user a login answered with. */
export interface LoginUser {
  id: string;
  username: string;
  role: string;
  email: string;
}

/** The answer of {@link KalamClient.login}. */
export interface LoginResult extends Tokens {
  user: LoginUser;
  adminUiAccess: boolean;
}

/** One statement's result. */
export interface QueryResult<T = Row> {
  /** Rows as objects keyed by column name (BIGINT per {@link Int64Mode}). */
  rows: T[];
  /** Columns; empty for statements without a result set (DDL, DML). */
  schema: Column[];
  /** Rows returned, or affected by DML. */
  rowCount: number;
  /** The server's message (`Inserted 2 row(s)`, ...), when any. */
  message?: string;
  /** The user the statement ran as. */
  asUser?: string;
}

/** Options of {@link KalamClient}. */
export interface ClientOptions extends LiveOptions {
  /** Server base URL, e.g. `http://127.0.0.1:8080` (the WebSocket URL is derived from it). */
  url: string;
  /** BIGINT representation in rows (default `"string"`). */
  int64?: Int64Mode;
  /** Tokens from a previous session (e.g. from storage). */
  tokens?: Tokens;
  /** Called whenever tokens change (login, refresh; `null` on logout or when they are refused). */
  onTokens?: (tokens: Tokens | null) => void;
  /**
   * Refresh the access token this long before it expires (default: 60 s, or a fifth of its
   * lifetime when that is shorter). Needs a refresh token.
   */
  refreshMarginMs?: number;
  /** Disable the automatic refresh timer (refresh still happens on TOKEN_EXPIRED). */
  autoRefresh?: boolean;
  /** fetch implementation (default: the global one). */
  fetch?: typeof fetch;
}

/** Options of {@link KalamClient.sql}. */
export interface SqlOptions {
  /** Namespace of unqualified table names (default `default`). */
  namespace?: string;
  /** Abort the request. */
  signal?: AbortSignal;
}

interface Envelope {
  status?: string;
  results?: { schema?: Column[]; rows?: unknown[][]; row_count?: number; message?: string; as_user?: string }[];
  error?: { code?: string; message?: string };
  code?: string;
  message?: string;
}

/**
 * KalamClient talks to one KalamDB server: authentication, SQL over HTTP, and live queries over
 * one shared WebSocket connection (opened with the first subscription, closed with the last).
 */
export class KalamClient {
  readonly url: string;
  readonly int64: Int64Mode;
  private tokens: Tokens | null;
  private readonly opts: ClientOptions;
  private readonly fetchFn: typeof fetch;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private refreshing: Promise<Tokens> | undefined;
  private readonly live: LiveConnection;
  private closed = false;

  constructor(opts: ClientOptions) {
    this.opts = opts;
    this.url = opts.url.replace(/\/+$/, "");
    this.int64 = opts.int64 ?? "string";
    this.fetchFn = opts.fetch ?? globalThis.fetch.bind(globalThis);
    this.tokens = opts.tokens ?? null;
    this.live = new LiveConnection(
      {
        wsUrl: this.url.replace(/^http/, "ws") + "/v1/ws",
        int64: this.int64,
        accessToken: () => this.validAccessToken(),
        onTokenExpired: () => this.refreshAfterExpiry(),
      },
      opts,
    );
    if (this.tokens) this.scheduleRefresh();
  }

  /** The current tokens, or null when logged out. */
  get currentTokens(): Tokens | null {
    return this.tokens;
  }

  /** The live connection's state (`idle`, `connecting`, `open`, `closed`). */
  get connectionState(): string {
    return this.live.state;
  }

  /** Logs in with a user name and password; the tokens are kept for every later call. */
  async login(user: string, password: string): Promise<LoginResult> {
    const body = await this.post("/v1/api/auth/login", { user, password }, undefined, AuthError);
    const res = loginResult(body);
    this.setTokens(res);
    return res;
  }

  /**
   * Exchanges the refresh token for a new token pair. The live connection moves to the new
   * token at once (reconnecting and resuming every subscription from its last `_seq`), so it is
   * not closed with TOKEN_EXPIRED when the old one expires. Concurrent calls share one request.
   */
  refresh(): Promise<Tokens> {
    if (!this.refreshing) {
      this.refreshing = this.doRefresh().finally(() => {
        this.refreshing = undefined;
      });
    }
    return this.refreshing;
  }

  private async doRefresh(): Promise<Tokens> {
    const rt = this.tokens?.refreshToken;
    if (!rt) throw new AuthError("NOT_AUTHENTICATED", "no refresh token: log in first");
    let body: unknown;
    try {
      body = await this.post("/v1/api/auth/refresh", { refresh_token: rt }, undefined, AuthError);
    } catch (e) {
      if (e instanceof AuthError) this.setTokens(null); // the session is over: log in again
      throw e;
    }
    const res = loginResult(body);
    this.setTokens(res);
    this.live.rotate();
    return res;
  }

  /**
   * Logs out: the server revokes every token of the user issued up to now (all sessions), the
   * live connection is closed (its subscriptions end with AUTH_REVOKED) and the tokens are dropped.
   */
  async logout(): Promise<void> {
    const token = this.tokens?.accessToken;
    try {
      if (token) await this.post("/v1/api/auth/logout", {}, token, AuthError);
    } finally {
      this.setTokens(null);
    }
  }

  /** Replaces the tokens (e.g. restored from storage); null logs out locally. */
  setTokens(tokens: Tokens | null): void {
    this.tokens = tokens
      ? {
          accessToken: tokens.accessToken,
          refreshToken: tokens.refreshToken,
          accessExpiresAt: tokens.accessExpiresAt,
          refreshExpiresAt: tokens.refreshExpiresAt,
        }
      : null;
    this.scheduleRefresh();
    this.opts.onTokens?.(this.tokens);
  }

  /**
   * Runs one statement and returns its rows as objects. `params` fill `$1, $2, ...`. Throws
   * {@link SqlError} or {@link AuthError} with the server's code. An expired access token is
   * refreshed once and the statement retried.
   */
  async sql<T = Row>(query: string, params?: readonly SqlParam[], options?: SqlOptions): Promise<QueryResult<T>> {
    const results = await this.sqlBatch<T>(query, params, options);
    if (results.length === 0) throw new KalamError("BAD_RESPONSE", "the server returned no result");
    return results[results.length - 1];
  }

  /** Runs one or more statements separated by `;` and returns one result per statement. */
  async sqlBatch<T = Row>(query: string, params?: readonly SqlParam[], options?: SqlOptions): Promise<QueryResult<T>[]> {
    const payload: string =
      "{" +
      `"sql":${JSON.stringify(query)}` +
      (params && params.length > 0 ? `,"params":${encodeParams(params)}` : "") +
      (options?.namespace ? `,"namespace_id":${JSON.stringify(options.namespace)}` : "") +
      "}";
    let body: Envelope;
    try {
      body = (await this.post("/v1/api/sql", payload, await this.validAccessToken(), undefined, options?.signal)) as Envelope;
    } catch (e) {
      if (!(e instanceof AuthError) || e.code !== "TOKEN_EXPIRED" || !this.tokens?.refreshToken) throw e;
      await this.refresh();
      body = (await this.post("/v1/api/sql", payload, await this.validAccessToken(), undefined, options?.signal)) as Envelope;
    }
    return (body.results ?? []).map((r) => {
      const schema = r.schema ?? [];
      return {
        rows: rowObjects<T>(schema, r.rows ?? [], int64Columns(schema, this.int64)),
        schema,
        rowCount: r.row_count ?? 0,
        message: r.message,
        asUser: r.as_user,
      };
    });
  }

  /** Who the current token belongs to (`GET /v1/api/auth/me`). */
  async me(): Promise<{ userId: string; role: string; adminUiAccess: boolean }> {
    const b = (await this.request("GET", "/v1/api/auth/me", undefined, await this.validAccessToken())) as Record<string, unknown>;
    return { userId: String(b.user_id), role: String(b.role), adminUiAccess: b.admin_ui_access === true };
  }

  /**
   * Subscribes to a live query (`SELECT * | cols FROM [ns.]table [WHERE ...]`). Handlers get
   * the initial data (paged), then every change. The subscription survives disconnects: the
   * client reconnects with jittered backoff and resumes from the last `_seq`. See
   * {@link SubscriptionHandlers} for what each error means.
   */
  subscribe<T = Row>(sql: string, handlers: SubscriptionHandlers<T> = {}, options: SubscribeOptions = {}): Subscription<T> {
    if (this.closed) throw new KalamError("CLOSED", "the client is closed");
    const sub = new Subscription<T>(this.live, sql, handlers, options);
    this.live.add(sub as Subscription<unknown>);
    return sub;
  }

  /**
   * Drops the live connection and opens a new one at once; every subscription resumes from its
   * last `_seq` (e.g. after the app returns from the background, or a network change).
   */
  reconnect(): void {
    this.live.rotate();
  }

  /** A materialised view: the live, ordered result of a query, kept in sync. */
  liveView<T extends Row = Row>(sql: string, options: LiveViewOptions<T> = {}): LiveView<T> {
    return new LiveView<T>(this, sql, options);
  }

  /** Closes the live connection and stops timers; the client cannot subscribe afterwards. */
  close(): void {
    this.closed = true;
    clearTimeout(this.refreshTimer);
    this.live.close();
  }

  // --- tokens ---

  private async validAccessToken(): Promise<string> {
    const t = this.tokens;
    if (!t) throw new AuthError("NOT_AUTHENTICATED", "not logged in");
    if (t.accessExpiresAt <= Date.now() && t.refreshToken) return (await this.refresh()).accessToken;
    return t.accessToken;
  }

  /** Called by the live connection on TOKEN_EXPIRED: true when a new token was obtained. */
  private async refreshAfterExpiry(): Promise<boolean> {
    if (!this.tokens?.refreshToken) return false;
    try {
      await this.refresh();
      return true;
    } catch (e) {
      if (e instanceof AuthError) return false;
      throw e; // network: the caller retries with backoff
    }
  }

  private scheduleRefresh(): void {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = undefined;
    const t = this.tokens;
    if (!t || !t.refreshToken || this.opts.autoRefresh === false || this.closed) return;
    const lifetime = t.accessExpiresAt - Date.now();
    const margin = this.opts.refreshMarginMs ?? Math.min(60_000, Math.max(lifetime / 5, 0));
    const delay = Math.max(0, Math.min(lifetime - margin, 2 ** 31 - 1));
    this.refreshTimer = setTimeout(() => {
      this.refresh().catch((e) => {
        // Network trouble: try again soon (the token may still be valid for a while).
        if (!(e instanceof AuthError) && this.tokens) {
          this.refreshTimer = setTimeout(() => this.scheduleRefresh(), 1000);
          unref(this.refreshTimer);
        }
      });
    }, delay);
    unref(this.refreshTimer);
  }

  // --- HTTP ---

  private post(
    path: string,
    body: unknown,
    token: string | undefined,
    errClass?: typeof AuthError,
    signal?: AbortSignal,
  ): Promise<unknown> {
    return this.request("POST", path, typeof body === "string" ? body : JSON.stringify(body), token, errClass, signal);
  }

  private async request(
    method: string,
    path: string,
    body: string | undefined,
    token: string | undefined,
    errClass?: typeof AuthError,
    signal?: AbortSignal,
  ): Promise<unknown> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers["Authorization"] = `Bearer ${token}`;
    let resp: Response;
    try {
      resp = await this.fetchFn(this.url + path, { method, headers, body, signal });
    } catch (e) {
      if ((e as { name?: string })?.name === "AbortError") throw e;
      throw new NetworkError(`while requesting ${path}: ${(e as Error)?.message ?? e}`, { cause: e });
    }
    const text = await resp.text();
    let parsed: Envelope | undefined;
    try {
      parsed = text ? (JSON.parse(text) as Envelope) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!resp.ok || parsed?.status === "error") {
      const code = parsed?.error?.code ?? parsed?.code ?? (resp.status === 429 ? "RATE_LIMIT_EXCEEDED" : "BAD_RESPONSE");
      const msg = parsed?.error?.message ?? parsed?.message ?? `HTTP ${resp.status}: ${text.slice(0, 200)}`;
      const err = errClass ? new errClass(code, msg, resp.status) : errorFromResponse(code, msg, resp.status);
      throw err;
    }
    if (parsed === undefined) throw new KalamError("BAD_RESPONSE", `while requesting ${path}: not JSON (HTTP ${resp.status})`, resp.status);
    return parsed;
  }
}

function loginResult(body: unknown): LoginResult {
  const b = body as Record<string, unknown>;
  const access = b.access_token;
  if (typeof access !== "string") throw new KalamError("BAD_RESPONSE", "login answer without access_token");
  const u = (b.user ?? {}) as Record<string, unknown>;
  const refreshExp = typeof b.refresh_expires_at === "string" ? Date.parse(b.refresh_expires_at) : undefined;
  return {
    accessToken: access,
    refreshToken: typeof b.refresh_token === "string" ? b.refresh_token : undefined,
    accessExpiresAt: tokenExpiry(access) ?? (typeof b.expires_at === "string" ? Date.parse(b.expires_at) : Date.now() + 3600_000),
    refreshExpiresAt: refreshExp,
    user: { id: String(u.id ?? ""), username: String(u.username ?? ""), role: String(u.role ?? ""), email: String(u.email ?? "") },
    adminUiAccess: b.admin_ui_access === true,
  };
}

/** tokenExpiry reads a JWT's `exp` claim (ms since the epoch) without verifying it. */
export function tokenExpiry(jwt: string): number | undefined {
  const part = jwt.split(".")[1];
  if (!part) return undefined;
  try {
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((part.length + 3) % 4));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === "number" ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** unref keeps a Node timer from holding the process open (no-op in browsers). */
export function unref(t: unknown): void {
  (t as { unref?: () => void } | undefined)?.unref?.();
}

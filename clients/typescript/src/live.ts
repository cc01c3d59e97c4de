// Live queries over the server's WebSocket protocol (docs/websocket.md).
//
// Invariants:
//   - One WebSocket carries every subscription of a client. Each (re)subscribe uses a fresh
//     wire id (`<id>~<n>`, n counting attempts on the client), so a late message of an earlier
//     attempt can never be applied to the current one, and equal ids never collide.
//   - A subscription's resume point (lastSeq) only moves to a position whose every earlier
//     event was delivered to the handlers: the `last_seq_id` of the last initial-data page, then
//     the `_seq` of each change. So resuming `from` it never skips nor repeats an event.
//   - Initial-data pages are delivered as they arrive, flagged first/last; a fresh (not
//     resumed) load's first page replaces whatever the consumer held.
import { unref } from "./client.js";
import { KalamError, LiveQueryError, type ErrorCode } from "./errors.js";
import { decodeMsgpack } from "./msgpack.js";
import { convertInt64, int64Columns, maxSeq, type Column, type Int64Mode, type Row } from "./values.js";

/** Options of the live connection (part of {@link ClientOptions}). */
export interface LiveOptions {
  /** WebSocket constructor (default: the global one; Node 20 needs `--experimental-websocket`, Node 22+ has it). */
  WebSocket?: typeof WebSocket;
  /** Serialization of server messages: `json` (default) or `msgpack` (binary frames, decoded by a built-in decoder). */
  serialization?: "json" | "msgpack";
  /**
   * `gzip` lets the server compress messages of 512 bytes or more (inflated with the platform's
   * DecompressionStream); default `none`. Worth it on slow links with large rows.
   */
  compression?: "none" | "gzip";
  /** Reconnect backoff: the n-th retry waits a random time in [d/2, d], d = min(max, initial * 2^n). */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /** Application ping interval (default 10 s; the server closes connections idle for 30 s). */
  pingIntervalMs?: number;
  /** Client-side bound on messages per second sent (default 80; the server allows 100). */
  maxMessagesPerSecond?: number;
  /** Connection-level events: state changes and errors (each also goes to the affected subscriptions). */
  onConnectionEvent?: (ev: ConnectionEvent) => void;
}

/** A connection-level event. */
export type ConnectionEvent =
  | { type: "state"; state: ConnectionState }
  | { type: "error"; error: LiveQueryError }
  | { type: "reconnect"; attempt: number; delayMs: number };

/** State of the shared live connection. */
export type ConnectionState = "idle" | "connecting" | "open" | "closed";

/** Options of {@link KalamClient.subscribe}. */
export interface SubscribeOptions {
  /** Subscription id prefix (1-100 printable characters; default `s1`, `s2`, ...). */
  id?: string;
  /** Initial-data page size (server default 1000, at most 5000). */
  batchSize?: number;
  /** Only the newest N rows by `_seq` (first load only; a resume replays changes since). */
  lastRows?: number;
  /** Start by resuming after this `_seq` (e.g. persisted from an earlier session). */
  from?: string;
}

/** Status of a subscription. */
export type SubscriptionStatus = "connecting" | "loading" | "live" | "ended";

/** One initial-data page. */
export interface SnapshotBatch<T> {
  /** Rows of the page. On a resume they are upserts (inserted or updated since `from`). */
  rows: T[];
  /** Resume only: keys (primary key and `_seq`) deleted or no longer matching since `from`. */
  deletedRows: Partial<T>[];
  /** True when this load resumes from an earlier position (apply as a diff). */
  resumed: boolean;
  /** First page of a load. A first page with `resumed` false replaces everything held. */
  first: boolean;
  /** Last page: changes follow. */
  last: boolean;
  /** The snapshot position (`last_seq_id`). */
  lastSeq: string;
  /** Columns of the rows. */
  schema: Column[];
}

/** A live event, as delivered to handlers and async iterators. */
export type LiveEvent<T> =
  | ({ type: "snapshot" } & SnapshotBatch<T>)
  | { type: "insert"; row: T }
  | { type: "update"; row: T; oldValues: Partial<T> }
  | { type: "delete"; oldValues: Partial<T> }
  | { type: "error"; error: LiveQueryError }
  | { type: "status"; status: SubscriptionStatus };

/**
 * Handlers of a subscription. Errors arrive at `onError` as {@link LiveQueryError}; when
 * `willRecover` is true the client handles them:
 * - `OVERFLOW`: the server's queue for this connection was full; the client resubscribes from
 *   the last `_seq` (nothing is lost; the missed changes arrive as a resumed snapshot);
 * - `RESUME_UNAVAILABLE`: the history since the last `_seq` is gone; the client reloads the
 *   whole result (a snapshot with `first` and not `resumed`: drop what you hold);
 * - `SCHEMA_CHANGED`: the table was altered; the client reloads the result in the new shape;
 * - `TOKEN_EXPIRED`: the connection's token expired; with a refresh token the client refreshes
 *   and reconnects, resuming; without one the subscription ends;
 * - `SHUTDOWN`, `IDLE_TIMEOUT`, `NETWORK_ERROR`: reconnect with backoff and resume.
 * Other codes (`INVALID_SQL`, `NOT_FOUND`, `UNAUTHORIZED`, `KILLED`, `AUTH_REVOKED`, ...) end
 * the subscription.
 */
export interface SubscriptionHandlers<T> {
  onSnapshot?(batch: SnapshotBatch<T>): void;
  onInsert?(row: T): void;
  /** `row` is the full new row; `oldValues` the key, the old `_seq` and the changed columns' old values. */
  onUpdate?(row: T, oldValues: Partial<T>): void;
  /** `oldValues`: the last values of the row that was deleted or left the result. */
  onDelete?(oldValues: Partial<T>): void;
  onError?(error: LiveQueryError): void;
  onStatus?(status: SubscriptionStatus): void;
}

interface ServerMessage {
  type?: string;
  subscription_id?: string;
  code?: string;
  message?: string;
  change_type?: string;
  rows?: Row[];
  old_values?: Row[];
  deleted_rows?: Row[];
  schema?: Column[];
  batch_control?: { batch_num?: number; has_more?: boolean; status?: string; last_seq_id?: string };
  protocol?: { serialization?: string; compression?: string };
}

const textDecoder = new TextDecoder();

/** isGzip tells gzip data (0x1f 0x8b) from a MessagePack map or JSON text. */
function isGzip(b: ArrayBuffer): boolean {
  const v = new Uint8Array(b, 0, Math.min(2, b.byteLength));
  return v.length === 2 && v[0] === 0x1f && v[1] === 0x8b;
}

/** gunzip inflates with the platform's DecompressionStream (browsers, Node 18+). */
async function gunzip(b: ArrayBuffer): Promise<ArrayBuffer> {
  const stream = new Blob([b]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Response(stream).arrayBuffer();
}

/** Codes after which a subscription is resubscribed (how is decided in Subscription.onError). */
const recoverableSubCodes = new Set(["OVERFLOW", "RESUME_UNAVAILABLE", "SCHEMA_CHANGED"]);
/** Connection-level codes after which the client reconnects (TOKEN_EXPIRED: after a refresh). */
const reconnectCodes = new Set(["SHUTDOWN", "IDLE_TIMEOUT", "PROTOCOL", "RATE_LIMIT_EXCEEDED", "AUTH_TIMEOUT", "NETWORK_ERROR"]);

/** What the connection needs from the client. */
export interface LiveHost {
  wsUrl: string;
  int64: Int64Mode;
  accessToken(): Promise<string>;
  /** Refreshes after TOKEN_EXPIRED; false when no new token can be had (log in again). */
  onTokenExpired(): Promise<boolean>;
}

/**
 * LiveConnection is the one WebSocket of a client: it authenticates, (re)subscribes every
 * subscription, routes messages to them, pings, and reconnects with jittered backoff.
 */
export class LiveConnection {
  state: ConnectionState = "idle";
  private ws: WebSocket | undefined;
  private readonly subs = new Set<Subscription<unknown>>();
  private readonly byWireId = new Map<string, Subscription<unknown>>();
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private nextId = 1;
  private attempts = 0;
  private fatal: LiveQueryError | undefined;
  private tokenExpired = false;
  /** True while connect() awaits the access token (so a second connect does not start). */
  private dialing = false;
  // Send throttle (token bucket) and its queue.
  private readonly queue: string[] = [];
  private tokens: number;
  private tokensAt = Date.now();
  private drainTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly rate: number;

  constructor(
    private readonly host: LiveHost,
    private readonly opts: LiveOptions,
  ) {
    this.rate = opts.maxMessagesPerSecond ?? 80;
    this.tokens = this.rate;
  }

  /** The client's int64 mode. */
  get int64(): Int64Mode {
    return this.host.int64;
  }

  newId(prefix?: string): string {
    return prefix ?? `s${this.nextId++}`;
  }

  /** nextAttempt numbers subscribe attempts on this client, so wire ids never repeat (even for equal ids). */
  nextAttempt(): number {
    return ++this.attempts;
  }

  add(sub: Subscription<unknown>): void {
    this.subs.add(sub);
    this.fatal = undefined;
    if (this.state === "open") sub.start();
    else this.ensureConnecting();
  }

  remove(sub: Subscription<unknown>): void {
    this.subs.delete(sub);
    if (sub.wireId) {
      this.byWireId.delete(sub.wireId);
      if (this.state === "open") this.send({ type: "unsubscribe", subscription_id: sub.wireId });
    }
    if (this.subs.size === 0) this.disconnect("idle");
  }

  /** register routes the messages of wireId to sub (forgetting its previous wire id). */
  register(sub: Subscription<unknown>, oldWireId: string | undefined, wireId: string): void {
    if (oldWireId) this.byWireId.delete(oldWireId);
    this.byWireId.set(wireId, sub);
  }

  /** True when messages can be sent now. */
  get isOpen(): boolean {
    return this.state === "open";
  }

  send(msg: Record<string, unknown>): void {
    if (!this.ws || this.state !== "open") return;
    this.queue.push(JSON.stringify(msg));
    this.drain();
  }

  private drain(): void {
    const now = Date.now();
    this.tokens = Math.min(this.rate, this.tokens + ((now - this.tokensAt) / 1000) * this.rate);
    this.tokensAt = now;
    while (this.queue.length > 0 && this.tokens >= 1 && this.ws) {
      this.tokens -= 1;
      this.ws.send(this.queue.shift()!);
    }
    if (this.queue.length > 0 && !this.drainTimer) {
      this.drainTimer = setTimeout(() => {
        this.drainTimer = undefined;
        this.drain();
      }, Math.ceil(1000 / this.rate));
    }
  }

  /**
   * rotate moves the connection to a new token (after a refresh): it reconnects at once and
   * every subscription resumes from its last `_seq`.
   */
  rotate(): void {
    if (this.state === "open" || this.state === "connecting") {
      this.teardown();
      this.connect();
    }
  }

  close(): void {
    this.disconnect("closed");
    for (const s of [...this.subs]) s.end(new LiveQueryError("CLOSED", "the client was closed", { subscriptionId: s.id, willRecover: false }), false);
    this.subs.clear();
  }

  private setState(s: ConnectionState): void {
    if (this.state === s) return;
    this.state = s;
    this.opts.onConnectionEvent?.({ type: "state", state: s });
  }

  private disconnect(state: "idle" | "closed"): void {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.teardown();
    this.setState(state);
  }

  private ensureConnecting(): void {
    if (this.state === "idle" || (this.state === "connecting" && !this.ws && !this.reconnectTimer && !this.dialing)) this.connect();
  }

  /** teardown drops the socket without triggering a reconnect. */
  private teardown(): void {
    clearInterval(this.pingTimer);
    clearTimeout(this.drainTimer);
    this.drainTimer = undefined;
    this.queue.length = 0;
    const ws = this.ws;
    this.ws = undefined;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
      try {
        ws.close(1000);
      } catch {
        /* already closed */
      }
    }
    this.byWireId.clear();
    for (const s of this.subs) s.detach();
  }

  private async connect(): Promise<void> {
    this.setState("connecting");
    this.tokenExpired = false;
    if (this.dialing) return;
    this.dialing = true;
    let token: string;
    try {
      token = await this.host.accessToken();
    } catch (e) {
      this.dialing = false;
      const err = e instanceof KalamError ? e : undefined;
      if (err && err.code !== "NETWORK_ERROR") {
        this.failAll(new LiveQueryError(err.code, err.message, { willRecover: false }));
      } else {
        this.scheduleReconnect(new LiveQueryError("NETWORK_ERROR", String((e as Error)?.message ?? e), { willRecover: true }));
      }
      return;
    }
    this.dialing = false;
    if (this.state !== "connecting" || this.ws) return; // closed or raced meanwhile
    const WS = this.opts.WebSocket ?? globalThis.WebSocket;
    if (!WS) {
      this.failAll(new LiveQueryError("UNSUPPORTED", "no WebSocket implementation (Node 20 needs --experimental-websocket)", { willRecover: false }));
      return;
    }
    let ws: WebSocket;
    try {
      ws = new WS(this.host.wsUrl);
    } catch (e) {
      this.scheduleReconnect(new LiveQueryError("NETWORK_ERROR", String((e as Error)?.message ?? e), { willRecover: true }));
      return;
    }
    this.ws = ws;
    ws.binaryType = "arraybuffer";
    ws.onopen = () => {
      ws.send(
        JSON.stringify({
          type: "authenticate",
          method: "jwt",
          token,
          protocol: { serialization: this.opts.serialization ?? "json", compression: this.opts.compression ?? "none" },
        }),
      );
    };
    // With gzip, compressed frames are inflated asynchronously; from the first one on, every
    // message of this socket goes through one promise chain so they are handled in order.
    let chain: Promise<void> | undefined;
    ws.onmessage = (ev: MessageEvent) => {
      if (ws !== this.ws) return;
      const data = ev.data as string | ArrayBuffer;
      if (chain || (typeof data !== "string" && isGzip(data))) {
        chain = (chain ?? Promise.resolve()).then(async () => {
          let payload: string | ArrayBuffer | Error;
          try {
            payload = typeof data !== "string" && isGzip(data) ? await gunzip(data) : data;
          } catch (e) {
            payload = e as Error;
          }
          if (ws === this.ws) this.receive(payload);
        });
        return;
      }
      this.receive(data);
    };
    // Some implementations (Node 20's) fire only `error`, never `close`, when the connection
    // cannot be established; and a handshake may hang. Either way the socket ends here, once.
    let ended = false;
    const end = (code: number, reason: string) => {
      clearTimeout(handshake);
      if (ended || ws !== this.ws) return;
      ended = true;
      this.onClosed(code, reason);
    };
    const handshake = setTimeout(() => {
      if (this.state !== "open") end(4001, "no auth_success within 15 s");
    }, 15_000);
    unref(handshake);
    ws.onclose = (ev: CloseEvent) => end(ev.code, ev.reason);
    ws.onerror = () => {
      if (ws.readyState !== 1 /* OPEN */) end(1006, "connection failed");
    };
  }

  /** receive decodes one message (JSON text, MessagePack or inflated bytes) and handles it. */
  private receive(data: string | ArrayBuffer | Error): void {
    let msg: ServerMessage;
    try {
      if (data instanceof Error) throw data;
      if (typeof data === "string") msg = JSON.parse(data);
      else {
        const bytes = new Uint8Array(data);
        msg = bytes[0] === 0x7b ? JSON.parse(textDecoder.decode(bytes)) : (decodeMsgpack(bytes) as ServerMessage);
      }
    } catch (e) {
      // A message we cannot read may have carried events: start over from the resume points.
      this.onClosed(4002, `undecodable server message: ${(e as Error).message}`);
      return;
    }
    this.handle(msg);
  }

  private onClosed(code: number, reason: string): void {
    this.teardown();
    if (this.subs.size === 0) {
      this.setState("idle");
      return;
    }
    if (this.fatal) {
      this.failAll(this.fatal);
      return;
    }
    if (this.tokenExpired) {
      this.setState("connecting");
      this.host.onTokenExpired().then(
        (ok) => {
          if (this.state !== "connecting" || this.ws) return;
          if (ok) this.connect();
          else this.failAll(new LiveQueryError("TOKEN_EXPIRED", "the access token expired and could not be refreshed: log in again", { willRecover: false }));
        },
        () => this.scheduleReconnect(new LiveQueryError("NETWORK_ERROR", "token refresh failed; retrying", { willRecover: true })),
      );
      return;
    }
    this.scheduleReconnect(new LiveQueryError("NETWORK_ERROR", `connection closed (${code}${reason ? " " + reason : ""})`, { willRecover: true }));
  }

  private scheduleReconnect(err: LiveQueryError): void {
    this.connectionError(err);
    if (this.subs.size === 0 || this.state === "closed") return;
    const initial = this.opts.reconnect?.initialDelayMs ?? 250;
    const max = this.opts.reconnect?.maxDelayMs ?? 10_000;
    const d = Math.min(max, initial * 2 ** Math.min(this.attempt, 30));
    const delay = d / 2 + Math.random() * (d / 2);
    this.attempt++;
    this.setState("connecting");
    this.opts.onConnectionEvent?.({ type: "reconnect", attempt: this.attempt, delayMs: delay });
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect();
    }, delay);
  }

  private failAll(err: LiveQueryError): void {
    this.disconnect("idle");
    this.connectionError(err);
    for (const s of [...this.subs]) s.end(new LiveQueryError(err.code, err.message, { subscriptionId: s.id, willRecover: false }), false);
    this.subs.clear();
  }

  private connectionError(err: LiveQueryError): void {
    this.opts.onConnectionEvent?.({ type: "error", error: err });
    if (err.willRecover) for (const s of this.subs) s.notifyError(new LiveQueryError(err.code, err.message, { subscriptionId: s.id, willRecover: true }));
  }

  /** current returns the subscription whose live attempt wireId is (not a stale one). */
  private current(wireId: string | undefined): Subscription<unknown> | undefined {
    if (wireId === undefined) return undefined;
    const sub = this.byWireId.get(wireId);
    return sub && sub.wireId === wireId ? sub : undefined;
  }

  private handle(msg: ServerMessage): void {
    switch (msg.type) {
      case "auth_success":
        this.attempt = 0;
        this.setState("open");
        clearInterval(this.pingTimer);
        this.pingTimer = setInterval(() => this.send({ type: "ping" }), this.opts.pingIntervalMs ?? 10_000);
        unref(this.pingTimer);
        for (const s of this.subs) s.start();
        return;
      case "auth_error": {
        const code = msg.code ?? "UNAUTHORIZED";
        if (code === "UNAUTHORIZED" || code === "TOKEN_EXPIRED") this.tokenExpired = true;
        else this.fatal = new LiveQueryError(code, msg.message ?? code, { willRecover: false });
        return; // the close follows
      }
      case "error": {
        const sub = this.current(msg.subscription_id);
        const code = msg.code ?? "INTERNAL_ERROR";
        if (sub) {
          sub.onServerError(code, msg.message ?? code);
          return;
        }
        // An error about an attempt we already gave up (e.g. next_batch crossing its OVERFLOW).
        if (msg.subscription_id !== undefined && this.byWireId.has(msg.subscription_id)) return;
        if (code === "TOKEN_EXPIRED") {
          this.tokenExpired = true;
          this.connectionError(new LiveQueryError(code, msg.message ?? code, { willRecover: true }));
        } else if (reconnectCodes.has(code)) {
          // A rate-limited message was dropped (we cannot tell which): start over.
          if (code === "RATE_LIMIT_EXCEEDED" && this.ws) this.onClosed(4000, "rate limited");
        } else if (!msg.subscription_id || ["protocol", "rate_limit", "subscribe", "invalid_subscription"].includes(msg.subscription_id)) {
          this.fatal = new LiveQueryError(code, msg.message ?? code, { willRecover: false });
        }
        return;
      }
      default: {
        this.current(msg.subscription_id)?.onMessage(msg);
      }
    }
  }
}

/**
 * Subscription is one live query. It stays active across reconnects until {@link unsubscribe}
 * or an unrecoverable error. `lastSeq` is its resume position.
 */
export class Subscription<T = Row> implements AsyncIterable<LiveEvent<T>> {
  /** The id given (or generated); wire ids are `<id>~<n>`. */
  readonly id: string;
  readonly sql: string;
  /** Resume position: the largest `_seq` applied (undefined before the first complete load). */
  lastSeq: string | undefined;
  /** Columns of the current load (from `subscription_ack`). */
  schema: Column[] = [];
  status: SubscriptionStatus = "connecting";
  /** The error that ended the subscription, if any. */
  endError: LiveQueryError | undefined;
  wireId: string | undefined;
  /** Page size of the next load: halved after each OVERFLOW (see onServerError). */
  private batchSize: number | undefined;
  private overflows = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private resumed = false;
  private firstPage = true;
  private bigintCols: string[] = [];
  private readonly iterators = new Set<{ push(ev: LiveEvent<T>): void; finish(): void }>();

  constructor(
    private readonly conn: LiveConnection,
    sql: string,
    private readonly handlers: SubscriptionHandlers<T>,
    private readonly options: SubscribeOptions,
  ) {
    this.id = conn.newId(options.id);
    this.sql = sql;
    this.lastSeq = options.from;
    this.batchSize = options.batchSize;
  }

  /** start sends subscribe (resuming from lastSeq when set); the connection is open. */
  start(): void {
    if (this.status === "ended") return;
    const old = this.wireId;
    this.wireId = `${this.id}~${this.conn.nextAttempt()}`;
    this.conn.register(this as Subscription<unknown>, old, this.wireId);
    const opts: Record<string, unknown> = {};
    if (this.batchSize) opts.batch_size = this.batchSize;
    this.resumed = this.lastSeq !== undefined;
    if (this.resumed) opts.from = this.lastSeq;
    else if (this.options.lastRows) opts.last_rows = this.options.lastRows;
    this.firstPage = true;
    this.setStatus("loading");
    this.conn.send({ type: "subscribe", subscription: { id: this.wireId, sql: this.sql, options: opts } });
  }

  /** detach: the connection is gone; start() follows after reconnecting. */
  detach(): void {
    this.wireId = undefined;
    clearTimeout(this.retryTimer);
    if (this.status !== "ended") this.setStatus("connecting");
  }

  /** Ends the subscription (no further events). */
  unsubscribe(): void {
    if (this.status === "ended") return;
    this.conn.remove(this as Subscription<unknown>);
    this.end(undefined, false);
  }

  /** Events as an async iterator (ends when the subscription ends). Breaking out unsubscribes. */
  [Symbol.asyncIterator](): AsyncIterator<LiveEvent<T>> {
    const buf: LiveEvent<T>[] = [];
    let wake: (() => void) | undefined;
    let done = this.status === "ended";
    const it = {
      push: (ev: LiveEvent<T>) => {
        buf.push(ev);
        wake?.();
      },
      finish: () => {
        done = true;
        wake?.();
      },
    };
    this.iterators.add(it);
    return {
      next: async (): Promise<IteratorResult<LiveEvent<T>>> => {
        while (buf.length === 0 && !done) await new Promise<void>((r) => (wake = r));
        wake = undefined;
        if (buf.length > 0) return { value: buf.shift()!, done: false };
        return { value: undefined, done: true };
      },
      return: async (): Promise<IteratorResult<LiveEvent<T>>> => {
        this.iterators.delete(it);
        this.unsubscribe();
        return { value: undefined, done: true };
      },
    };
  }

  private emit(ev: LiveEvent<T>): void {
    for (const it of this.iterators) it.push(ev);
  }

  private setStatus(s: SubscriptionStatus): void {
    if (this.status === s) return;
    this.status = s;
    this.handlers.onStatus?.(s);
    this.emit({ type: "status", status: s });
  }

  notifyError(err: LiveQueryError): void {
    this.handlers.onError?.(err);
    this.emit({ type: "error", error: err });
  }

  /** end marks the subscription ended (reporting err) and releases iterators. */
  end(err: LiveQueryError | undefined, detach: boolean): void {
    if (this.status === "ended") return;
    if (detach) this.conn.remove(this as Subscription<unknown>);
    clearTimeout(this.retryTimer);
    this.endError = err;
    if (err) this.notifyError(err);
    this.setStatus("ended");
    for (const it of this.iterators) it.finish();
    this.iterators.clear();
  }

  onServerError(code: ErrorCode, message: string): void {
    if (recoverableSubCodes.has(code)) {
      this.notifyError(new LiveQueryError(code, message, { subscriptionId: this.id, willRecover: true }));
      // RESUME_UNAVAILABLE: the history is gone; SCHEMA_CHANGED: held rows have the old shape.
      // Both reload the whole result. OVERFLOW resumes (during a first load there is no
      // position yet, and the load starts over).
      if (code !== "OVERFLOW") {
        this.lastSeq = undefined;
        if (this.conn.isOpen) this.start();
        return;
      }
      // The connection's queue is full: give it time to drain (jittered, growing with
      // consecutive overflows), and load in smaller pages, since a page larger than the
      // queue's byte budget could never be queued.
      this.overflows++;
      this.batchSize = Math.max(10, Math.floor((this.batchSize ?? 1000) / 2));
      const d = Math.min(5000, 50 * 2 ** Math.min(this.overflows, 10));
      this.wireId = undefined;
      this.setStatus("loading");
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => {
        if (this.conn.isOpen) this.start();
      }, d / 2 + Math.random() * (d / 2));
      return;
    }
    this.end(new LiveQueryError(code, message, { subscriptionId: this.id, willRecover: false }), true);
  }

  onMessage(msg: ServerMessage): void {
    switch (msg.type) {
      case "subscription_ack":
        this.schema = msg.schema ?? [];
        this.bigintCols = int64Columns(this.schema, this.conn.int64);
        return;
      case "initial_data_batch": {
        const bc = msg.batch_control ?? {};
        const last = bc.has_more !== true;
        const batch: SnapshotBatch<T> = {
          rows: this.convert(msg.rows),
          deletedRows: this.convert(msg.deleted_rows) as Partial<T>[],
          resumed: this.resumed,
          first: this.firstPage,
          last,
          lastSeq: bc.last_seq_id ?? "",
          schema: this.schema,
        };
        this.firstPage = false;
        if (!last) this.conn.send({ type: "next_batch", subscription_id: this.wireId });
        else this.lastSeq = maxSeq(this.lastSeq, bc.last_seq_id);
        this.handlers.onSnapshot?.(batch);
        this.emit({ type: "snapshot", ...batch });
        if (last) {
          this.overflows = 0;
          this.batchSize = this.options.batchSize;
          this.setStatus("live");
        }
        return;
      }
      case "change": {
        const rows = this.convert(msg.rows);
        const olds = this.convert(msg.old_values) as Partial<T>[];
        switch (msg.change_type) {
          case "insert":
            for (const r of rows) {
              this.lastSeq = maxSeq(this.lastSeq, (r as Row)._seq);
              this.handlers.onInsert?.(r);
              this.emit({ type: "insert", row: r });
            }
            return;
          case "update":
            for (let i = 0; i < rows.length; i++) {
              const r = rows[i];
              const o = olds[i] ?? {};
              this.lastSeq = maxSeq(this.lastSeq, (r as Row)._seq);
              this.handlers.onUpdate?.(r, o);
              this.emit({ type: "update", row: r, oldValues: o });
            }
            return;
          case "delete":
            for (const o of olds) {
              this.lastSeq = maxSeq(this.lastSeq, (o as Row)._seq);
              this.handlers.onDelete?.(o);
              this.emit({ type: "delete", oldValues: o });
            }
            return;
        }
        return;
      }
    }
  }

  private convert(rows: Row[] | undefined): T[] {
    if (!rows) return [];
    if (this.bigintCols.length > 0) for (const r of rows) convertInt64(r, this.bigintCols);
    return rows as T[];
  }
}

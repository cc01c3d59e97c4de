// A materialised view: the live, ordered result of a subscription, kept in sync.
//
// Invariants:
//   - `rows` always equals the result of the query at some committed position: a load (fresh or
//     resumed) is staged and applied when its last page arrives, never half-way.
//   - Rows are keyed by the primary key (option `key`); extra fields the server may add to rows
//     are kept as they are (they do not affect keying or ordering).
//   - The state object handed to listeners is immutable and replaced on every change, so
//     `getState()` can back React's useSyncExternalStore.
import type { KalamClient } from "./client.js";
import type { LiveQueryError } from "./errors.js";
import type { SnapshotBatch, SubscribeOptions, Subscription, SubscriptionStatus } from "./live.js";
import type { Row } from "./values.js";

/** Options of {@link KalamClient.liveView}. */
export interface LiveViewOptions<T> {
  /** Primary-key column(s) of the table (default `"id"`), or a function returning a row's key. */
  key?: string | readonly string[] | ((row: Partial<T>) => string);
  /** Order of `rows` (default: by key, numbers compared as numbers). */
  compare?: (a: T, b: T) => number;
  /** Shorthand for compare: order by this column ascending (numbers and numeric strings numerically). */
  orderBy?: string;
  /** Subscription options (batch size, id, ...). */
  subscribe?: SubscribeOptions;
  /** Called with every error (recoverable ones too). */
  onError?: (err: LiveQueryError) => void;
}

/** A snapshot of the view: replaced (never mutated) on every change. */
export interface LiveViewState<T> {
  /** The rows, ordered. */
  readonly rows: readonly T[];
  /** `loading` until the first complete load, `live` afterwards (also while reconnecting: see `connected`). */
  readonly status: SubscriptionStatus;
  /** False while the connection is being re-established (rows may be stale). */
  readonly connected: boolean;
  /** The last error reported (recoverable or the one that ended the view). */
  readonly error: LiveQueryError | undefined;
}

/** LiveView keeps the result of a live query in memory, ordered, and notifies listeners. */
export class LiveView<T extends Row = Row> {
  readonly subscription: Subscription<T>;
  private map = new Map<string, T>();
  private staged: Map<string, T> | undefined;
  private stagedDeletes: string[] = [];
  private readonly keyOf: (row: Partial<T>) => string;
  private readonly compare: (a: T, b: T) => number;
  private state: LiveViewState<T>;
  private sorted: T[] | undefined;
  private readonly listeners = new Set<() => void>();
  private notifyQueued = false;
  private loaded = false;
  private readyWaiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  /** Events applied (inserts, updates, deletes, snapshot rows) since creation. */
  applied = 0;

  constructor(client: KalamClient, sql: string, private readonly opts: LiveViewOptions<T> = {}) {
    this.keyOf = keyFunction<T>(opts.key ?? "id");
    this.compare = opts.compare ?? (opts.orderBy ? byColumn<T>(opts.orderBy) : (a, b) => compareValues(this.keyOf(a), this.keyOf(b)));
    this.state = { rows: [], status: "connecting", connected: false, error: undefined };
    this.subscription = client.subscribe<T>(
      sql,
      {
        onSnapshot: (b) => this.onSnapshot(b),
        onInsert: (r) => this.upsert(r),
        onUpdate: (r) => this.upsert(r),
        onDelete: (o) => this.remove(o),
        onError: (e) => this.onError(e),
        onStatus: (s) => this.onStatus(s),
      },
      opts.subscribe,
    );
  }

  /** The ordered rows (a new array after each change, the same one otherwise). */
  get rows(): readonly T[] {
    return this.getState().rows;
  }

  /** Number of rows. */
  get size(): number {
    return this.map.size;
  }

  /** The row with this key (as the key function renders it). */
  get(key: string): T | undefined {
    return this.map.get(key);
  }

  /** The resume position of the underlying subscription. */
  get lastSeq(): string | undefined {
    return this.subscription.lastSeq;
  }

  /** Current state; the same object until something changes. */
  getState = (): LiveViewState<T> => {
    if (this.sorted === undefined) {
      this.sorted = [...this.map.values()].sort(this.compare);
      this.state = { ...this.state, rows: this.sorted };
    }
    return this.state;
  };

  /** Registers a listener called (once per microtask at most) after changes; returns the unsubscribe function. */
  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Resolves when the first complete load was applied; rejects if the view ends before. */
  ready(): Promise<void> {
    if (this.loaded) return Promise.resolve();
    if (this.subscription.status === "ended") return Promise.reject(this.subscription.endError);
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  /** Ends the subscription; the rows stay as they were. */
  close(): void {
    this.subscription.unsubscribe();
  }

  private onSnapshot(b: SnapshotBatch<T>): void {
    if (b.first) {
      // A fresh load replaces everything; a resumed one starts from what is held.
      this.staged = b.resumed ? new Map(this.map) : new Map();
      this.stagedDeletes = [];
    }
    const m = this.staged ?? (this.staged = new Map(this.map));
    for (const r of b.rows) m.set(this.keyOf(r), r);
    for (const d of b.deletedRows) m.delete(this.keyOf(d));
    this.applied += b.rows.length + b.deletedRows.length;
    if (!b.last) return;
    this.map = m;
    this.staged = undefined;
    this.changed();
    if (!this.loaded) {
      this.loaded = true;
      for (const w of this.readyWaiters) w.resolve();
      this.readyWaiters = [];
    }
  }

  private upsert(r: T): void {
    this.map.set(this.keyOf(r), r);
    this.applied++;
    this.changed();
  }

  private remove(o: Partial<T>): void {
    this.map.delete(this.keyOf(o));
    this.applied++;
    this.changed();
  }

  private onError(e: LiveQueryError): void {
    this.state = { ...this.state, error: e };
    this.opts.onError?.(e);
    if (!e.willRecover) {
      for (const w of this.readyWaiters) w.reject(e);
      this.readyWaiters = [];
    }
    this.notify();
  }

  private onStatus(s: SubscriptionStatus): void {
    const status = s === "ended" ? "ended" : this.loaded ? "live" : s;
    this.state = { ...this.state, status, connected: s === "live" };
    this.notify();
  }

  private changed(): void {
    this.sorted = undefined;
    this.notify();
  }

  private notify(): void {
    if (this.notifyQueued || this.listeners.size === 0) return;
    this.notifyQueued = true;
    queueMicrotask(() => {
      this.notifyQueued = false;
      for (const l of [...this.listeners]) l();
    });
  }
}

function keyFunction<T>(key: string | readonly string[] | ((row: Partial<T>) => string)): (row: Partial<T>) => string {
  if (typeof key === "function") return key;
  if (typeof key === "string") return (r) => String((r as Row)[key]);
  return (r) => JSON.stringify(key.map((k) => String((r as Row)[k])));
}

const numeric = /^-?\d+(\.\d+)?$/;

/** compareValues orders numbers and numeric strings numerically, other values as strings. */
export function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  const sa = typeof a === "string" ? a : String(a);
  const sb = typeof b === "string" ? b : String(b);
  if (numeric.test(sa) && numeric.test(sb)) {
    if (sa.length < 16 && sb.length < 16) return Number(sa) - Number(sb);
    if (!sa.includes(".") && !sb.includes(".")) {
      const x = BigInt(sa);
      const y = BigInt(sb);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    return Number(sa) - Number(sb);
  }
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function byColumn<T>(col: string): (a: T, b: T) => number {
  return (a, b) => compareValues((a as Row)[col], (b as Row)[col]);
}

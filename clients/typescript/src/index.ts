// @kalamdb/client: KalamDB for browsers and Node 20+. See docs/typescript-client.md.
export { KalamClient, tokenExpiry } from "./client.js";
export type { ClientOptions, LoginResult, LoginUser, QueryResult, SqlOptions, Tokens } from "./client.js";
export { AuthError, KalamError, LiveQueryError, NetworkError, SqlError } from "./errors.js";
export type { ErrorCode } from "./errors.js";
export { Subscription } from "./live.js";
export type {
  ConnectionEvent,
  ConnectionState,
  LiveEvent,
  LiveOptions,
  SnapshotBatch,
  SubscribeOptions,
  SubscriptionHandlers,
  SubscriptionStatus,
} from "./live.js";
export { LiveView, compareValues } from "./view.js";
export type { LiveViewOptions, LiveViewState } from "./view.js";
export { compareSeq } from "./values.js";
export type { Column, Int64Mode, Row, SqlParam } from "./values.js";
export { decodeMsgpack } from "./msgpack.js";

// React binding: `import { useLiveQuery } from "@kalamdb/client/react"`.
import { useEffect, useState, useSyncExternalStore } from "react";
import type { KalamClient } from "./client.js";
import type { LiveView, LiveViewOptions, LiveViewState } from "./view.js";
import type { Row } from "./values.js";

const idle: LiveViewState<never> = Object.freeze({ rows: Object.freeze([]) as readonly never[], status: "connecting", connected: false, error: undefined });
const noSubscribe = () => () => {};

/**
 * useLiveQuery keeps a component in sync with a live query: it opens a materialised view
 * ({@link KalamClient.liveView}) while the component is mounted and re-renders on every change.
 * Pass `client` null (or `sql` empty) to wait, e.g. until logged in. The view is recreated when
 * `client`, `sql` or the key/order options change.
 *
 * ```tsx
 * const { rows, status, error } = useLiveQuery<Message>(client, "SELECT * FROM chat.messages WHERE room = 'general'", { orderBy: "id" });
 * ```
 */
export function useLiveQuery<T extends Row = Row>(
  client: KalamClient | null | undefined,
  sql: string | null | undefined,
  options?: LiveViewOptions<T>,
): LiveViewState<T> {
  const [view, setView] = useState<LiveView<T> | null>(null);
  const keyDep = typeof options?.key === "function" ? options.key : JSON.stringify(options?.key ?? null);
  const orderDep = options?.compare ?? options?.orderBy;
  useEffect(() => {
    if (!client || !sql) {
      setView(null);
      return;
    }
    const v = client.liveView<T>(sql, options);
    setView(v);
    return () => v.close();
    // options other than key/order are read when the view starts.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, sql, keyDep, orderDep]);
  return useSyncExternalStore(
    view ? view.subscribe : noSubscribe,
    view ? view.getState : () => idle as LiveViewState<T>,
    view ? view.getState : () => idle as LiveViewState<T>,
  );
}

export type { LiveViewOptions, LiveViewState } from "./view.js";

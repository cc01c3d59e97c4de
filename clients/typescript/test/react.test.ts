// useLiveQuery (the "@kalamdb/client/react" entry point) rendering against a real server.
import assert from "node:assert/strict";
import { test } from "node:test";
import React from "react";
import TestRenderer, { act } from "react-test-renderer";
import type { KalamClient } from "@kalamdb/client";
import { useLiveQuery } from "@kalamdb/client/react";
import { waitFor, serverForFile } from "./harness.js";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const fx = serverForFile(
  "CREATE NAMESPACE app; CREATE SHARED TABLE app.r (id BIGINT PRIMARY KEY, name TEXT); INSERT INTO app.r (id, name) VALUES (2, 'two'), (1, 'one')",
);

function List({ client }: { client: KalamClient | null }) {
  const { rows, status } = useLiveQuery<{ id: string; name: string }>(client, "SELECT * FROM app.r", { orderBy: "id" });
  return React.createElement("ul", { "data-status": status }, ...rows.map((r) => React.createElement("li", { key: r.id }, r.name)));
}

test("useLiveQuery renders the live result and re-renders on changes", async () => {
  const client = await fx.srv.root();
  let r!: TestRenderer.ReactTestRenderer;
  await act(async () => {
    r = TestRenderer.create(React.createElement(List, { client: null }));
  });
  assert.equal(r.root.findByType("ul").props["data-status"], "connecting");
  await act(async () => r.update(React.createElement(List, { client })));
  const items = () => r.root.findAllByType("li").map((li) => li.children.join(""));
  await waitFor("initial rows", async () => {
    await act(async () => new Promise((res) => setTimeout(res, 10)));
    return items().length === 2;
  });
  assert.deepEqual(items(), ["one", "two"]);
  assert.equal(r.root.findByType("ul").props["data-status"], "live");
  await fx.root.sql("INSERT INTO app.r (id, name) VALUES (3, 'three')");
  await fx.root.sql("DELETE FROM app.r WHERE id = 1");
  await waitFor("changes rendered", async () => {
    await act(async () => new Promise((res) => setTimeout(res, 10)));
    return items().join() === "two,three";
  });
  await act(async () => r.unmount());
  await waitFor("unsubscribed on unmount", async () => (await fx.root.sql("SELECT * FROM system.live WHERE user_id = 'root'")).rowCount === 0);
  client.close();
});

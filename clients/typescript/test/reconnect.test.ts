// Reconnects against a real server that is killed (SIGKILL) and restarted, and OVERFLOW.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { KalamClient, LiveQueryError, Row } from "@kalamdb/client";
import { TestServer, serverForFile, sleep, waitFor } from "./harness.js";

const fx = serverForFile(
  "CREATE NAMESPACE app; CREATE SHARED TABLE app.ev (id BIGINT PRIMARY KEY, v INT)", { KALAMDB_MAX_QUERY_LIMIT: "100000", KALAMDB_DEFAULT_QUERY_LIMIT: "100000" },
);

test("server killed and restarted: every change delivered exactly once", async () => {
  const backoff: { attempt: number; delayMs: number }[] = [];
  const reader = await fx.srv.root({
    reconnect: { initialDelayMs: 100, maxDelayMs: 1000 },
    onConnectionEvent: (ev) => ev.type === "reconnect" && backoff.push(ev),
  });
  // Every id inserted must reach the reader exactly once: as an insert, or as a row of the
  // resumed snapshot after a reconnect.
  const inserted = new Map<string, number>();
  const latest = new Map<string, Row>();
  const errors: string[] = [];
  let resumes = 0;
  const sub = reader.subscribe<{ id: string; v: number }>(
    "SELECT * FROM app.ev",
    {
      onSnapshot: (b) => {
        if (b.resumed && b.first) resumes++;
        // Rows are never updated here, so any appearance is a delivery of the row's insert.
        for (const r of b.rows) {
          if (!b.resumed) continue;
          inserted.set(r.id, (inserted.get(r.id) ?? 0) + 1);
          latest.set(r.id, r);
        }
      },
      onInsert: (r) => {
        inserted.set(r.id, (inserted.get(r.id) ?? 0) + 1);
        latest.set(r.id, r);
      },
      onError: (e: LiveQueryError) => errors.push(e.code),
    },
    { batchSize: 5000 },
  );
  await waitFor("live", () => sub.status === "live");

  const writer = await fx.srv.root({ reconnect: { initialDelayMs: 50, maxDelayMs: 200 } });
  const acked = new Set<number>();
  let stop = false;
  const write = (async () => {
    for (let id = 1; !stop; id++) {
      try {
        await writer.sql("INSERT INTO app.ev (id, v) VALUES ($1, 0)", [id]);
        acked.add(id);
      } catch {
        await sleep(50); // server down: this id may or may not exist
      }
      await sleep(2);
    }
  })();
  await waitFor("some writes", () => acked.size > 100);
  for (let round = 0; round < 2; round++) {
    await fx.srv.kill();
    await sleep(300);
    await fx.srv.restart();
    await waitFor("writes resumed", () => acked.size > 100 * (round + 2), 20_000);
  }
  stop = true;
  await write;
  const final = await fx.root.sql<{ id: string; v: number }>("SELECT id, v FROM app.ev");
  await waitFor("reader converged", () => latest.size === final.rowCount, 15_000);
  assert.ok(resumes >= 2, `resumed ${resumes} times`);
  // Jittered exponential backoff: attempt n waits in [d/2, d], d = min(1000, 100 * 2^(n-1)).
  assert.ok(backoff.length >= 2);
  for (const b of backoff) {
    const d = Math.min(1000, 100 * 2 ** (b.attempt - 1));
    assert.ok(b.delayMs >= d / 2 && b.delayMs <= d, `attempt ${b.attempt} waited ${b.delayMs} ms`);
  }
  assert.ok(errors.includes("NETWORK_ERROR"), "the disconnects were reported as recoverable errors");
  for (const r of final.rows) assert.equal(inserted.get(r.id), 1, `id ${r.id} delivered ${inserted.get(r.id)} times`);
  for (const id of acked) assert.ok(latest.has(String(id)), `acknowledged id ${id} missing`);
  assert.equal(inserted.size, final.rowCount, "no event for a row that does not exist");
  reader.close();
  writer.close();
});

test("OVERFLOW is surfaced and the subscription resumes without loss", async () => {
  const small = await TestServer.start({ KALAMDB_WEBSOCKET_QUEUE_SIZE: "16" });
  try {
    const admin = await small.root();
    await admin.sqlBatch("CREATE NAMESPACE app; CREATE SHARED TABLE app.o (id BIGINT PRIMARY KEY, body TEXT)");
    const c = await small.root();
    const overflowed: LiveQueryError[] = [];
    // 40 subscriptions on one connection: each statement queues 40 messages at once on a
    // 16-message queue.
    const views = Array.from({ length: 40 }, () => c.liveView("SELECT * FROM app.o", { onError: (e) => e.code === "OVERFLOW" && overflowed.push(e) }));
    await Promise.all(views.map((v) => v.ready()));
    const body = "x".repeat(2000);
    for (let i = 0; i < 30; i++) {
      const values = Array.from({ length: 20 }, (_, j) => `(${i * 20 + j}, '${body}')`).join(", ");
      await admin.sql(`INSERT INTO app.o (id, body) VALUES ${values}`);
    }
    await admin.sql("DELETE FROM app.o WHERE id < 100");
    await waitFor("all views converged", () => views.every((v) => v.size === 500 && v.subscription.status === "live"), 20_000);
    assert.ok(overflowed.length > 0, "OVERFLOW surfaced");
    assert.ok(overflowed.every((e) => e.willRecover));
    c.close();
    admin.close();
  } finally {
    await small.stop();
  }
});

test("rows deleted while the client is cut off arrive as deleted_rows on resume", async () => {
  // A WebSocket whose connection attempts fail while `down` is set: the network is gone for
  // this client only, while others keep writing.
  let down = false;
  class Flaky extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(down ? "ws://127.0.0.1:1/unreachable" : url, protocols);
    }
  }
  await fx.root.sql("CREATE SHARED TABLE app.d (id BIGINT PRIMARY KEY, v TEXT)");
  await fx.root.sql("INSERT INTO app.d (id, v) VALUES (1, 'a'), (2, 'b'), (3, 'c')");
  const c = await fx.srv.root({ WebSocket: Flaky });
  const snaps: { resumed: boolean; rows: string[]; deleted: string[] }[] = [];
  const view = c.liveView<{ id: string; v: string }>("SELECT * FROM app.d");
  const sub = c.subscribe<{ id: string }>("SELECT * FROM app.d", {
    onSnapshot: (b) => snaps.push({ resumed: b.resumed, rows: b.rows.map((r) => r.id), deleted: b.deletedRows.map((r) => String(r.id)) }),
  });
  await view.ready();
  await waitFor("live", () => sub.status === "live");
  down = true;
  c.reconnect(); // drops the connection; reconnect attempts fail while down
  await sleep(300);
  await fx.root.sql("DELETE FROM app.d WHERE id = 2");
  await fx.root.sql("INSERT INTO app.d (id, v) VALUES (4, 'd')");
  await fx.root.sql("INSERT INTO app.d (id, v) VALUES (5, 'e')");
  await fx.root.sql("DELETE FROM app.d WHERE id = 5"); // never seen by the client
  await fx.root.sql("UPDATE app.d SET v = 'c2' WHERE id = 3");
  assert.deepEqual(view.rows.map((r) => r.id), ["1", "2", "3"], "the view keeps its rows while cut off");
  down = false;
  await waitFor("resumed", () => snaps.some((s) => s.resumed) && sub.status === "live", 15_000);
  const resumed = snaps.find((s) => s.resumed)!;
  assert.deepEqual(resumed.rows.sort(), ["3", "4"]);
  assert.deepEqual(resumed.deleted.sort(), ["2", "5"]);
  await waitFor("view resumed", () => view.rows.map((r) => `${r.id}:${r.v}`).join() === "1:a,3:c2,4:d");
  c.close();
});

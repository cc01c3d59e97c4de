// The materialised view equals a fresh SELECT after 10,000 random inserts, updates and deletes
// from three writers, with reconnects (client-side drops and a server kill/restart) in between.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { KalamClient, LiveView, Row } from "@kalamdb/client";
import { sleep, waitFor, serverForFile } from "./harness.js";

const fx = serverForFile(
  "CREATE NAMESPACE app; CREATE SHARED TABLE app.mv (id BIGINT PRIMARY KEY, a INT, b TEXT)", { KALAMDB_MAX_QUERY_LIMIT: "100000", KALAMDB_DEFAULT_QUERY_LIMIT: "100000" },
);

/** A small deterministic PRNG (mulberry32), so a failure can be replayed. */
function rng(seed: number): () => number {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function canon(rows: readonly Row[]): string {
  return JSON.stringify(
    rows
      .map((r) => ({ id: String(r.id), a: r.a, b: r.b }))
      .sort((x, y) => Number(x.id) - Number(y.id)),
  );
}

test("materialised views equal a fresh SELECT after 10,000 random writes with reconnects", { timeout: 300_000 }, async () => {
  const total = 10_000;
  const seed = Number(process.env.VIEW_SEED ?? Date.now() % 1e9);
  let opens = 0;
  const reader = await fx.srv.root({ onConnectionEvent: (ev) => ev.type === "state" && ev.state === "open" && opens++ });
  const all = reader.liveView("SELECT * FROM app.mv", { subscribe: { batchSize: 700 } });
  // A filtered view: updates move rows in and out of it.
  const even = reader.liveView("SELECT id, a, b FROM app.mv WHERE a % 2 = 0", { orderBy: "a" });
  await Promise.all([all.ready(), even.ready()]);

  let done = 0;
  let reconnecting = false;
  const milestones = [2000, 4000, 6000, 8000];
  const writer = async (w: number) => {
    const c = await fx.srv.root({ reconnect: { initialDelayMs: 50, maxDelayMs: 300 } });
    const rand = rng(seed + w);
    const live = new Set<number>();
    const resync = async () => {
      const r = await c.sql<{ id: string }>("SELECT id FROM app.mv WHERE id % 3 = $1", [w]);
      live.clear();
      for (const row of r.rows) live.add(Number(row.id));
    };
    while (done < total) {
      while (reconnecting) await sleep(20);
      const x = rand();
      const ids = [...live];
      let q: string;
      let params: (number | string)[];
      let apply: () => void;
      if (ids.length < 20 || x < 0.4) {
        let id: number;
        do id = Math.floor(rand() * 1000) * 3 + w;
        while (live.has(id));
        q = "INSERT INTO app.mv (id, a, b) VALUES ($1, $2, $3)";
        params = [id, Math.floor(rand() * 100), `w${w}-${done}`];
        apply = () => live.add(id);
      } else if (x < 0.8) {
        const id = ids[Math.floor(rand() * ids.length)];
        q = "UPDATE app.mv SET a = $1, b = $2 WHERE id = $3";
        params = [Math.floor(rand() * 100), `u${w}-${done}`, id];
        apply = () => undefined;
      } else {
        const id = ids[Math.floor(rand() * ids.length)];
        q = "DELETE FROM app.mv WHERE id = $1";
        params = [id];
        apply = () => live.delete(id);
      }
      try {
        await c.sql(q, params);
        apply();
        done++;
      } catch {
        // The server was down: the statement may or may not have been applied.
        while (true) {
          await sleep(100);
          try {
            await resync();
            break;
          } catch {
            /* still down */
          }
        }
      }
      if (milestones.length > 0 && done >= milestones[0]) {
        const m = milestones.shift()!;
        if (m === 4000) {
          reconnecting = true;
          await fx.srv.kill();
          await sleep(200);
          await fx.srv.restart();
          reconnecting = false;
        } else {
          reader.reconnect();
        }
      }
    }
    c.close();
  };
  const t0 = Date.now();
  await Promise.all([writer(0), writer(1), writer(2)]);
  const took = Date.now() - t0;

  const fresh = await fx.root.sql("SELECT id, a, b FROM app.mv");
  const freshEven = await fx.root.sql("SELECT id, a, b FROM app.mv WHERE a % 2 = 0");
  const matches = (v: LiveView, want: Row[]) => canon(v.rows) === canon(want);
  await waitFor("views converged", () => matches(all, fresh.rows) && matches(even, freshEven.rows), 20_000).catch((e) => {
    assert.equal(canon(all.rows), canon(fresh.rows), `seed ${seed}`);
    assert.equal(canon(even.rows), canon(freshEven.rows), `seed ${seed}`);
    throw e;
  });
  // Ordering: `even` is sorted by a.
  const as = even.rows.map((r) => r.a as number);
  assert.deepEqual(as, [...as].sort((x, y) => x - y));
  assert.ok(all.size > 100, `rows: ${all.size}`);
  assert.ok(opens >= 5, `the reader connected ${opens} times (1 + 3 client reconnects + 1 server restart)`);
  console.log(`# 10,000 writes in ${took} ms; view ${all.size} rows, filtered ${even.size}; seed ${seed}`);
  reader.close();
});

// Every API of the client against a real server: auth, SQL, typed errors, live queries.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  AuthError,
  KalamClient,
  LiveQueryError,
  SqlError,
  type LiveEvent,
  type Row,
  type SnapshotBatch,
} from "@kalamdb/client";
import { mintToken, rootPassword, sleep, waitFor, serverForFile } from "./harness.js";

const fx = serverForFile(
  "CREATE NAMESPACE app; " +
      "CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, body TEXT, n INT); " +
      "CREATE SHARED TABLE app.items (id BIGINT PRIMARY KEY, name TEXT, price DECIMAL(10,2)) WITH (ACCESS_LEVEL = 'PUBLIC'); " +
      "CREATE USER alice WITH PASSWORD 'Alice-pass-123' ROLE user; " +
      "CREATE USER bob WITH PASSWORD 'Bob-pass-123' ROLE user",
);

async function login(user: string, password: string, opts = {}): Promise<KalamClient> {
  const c = fx.srv.client(opts);
  await c.login(user, password);
  return c;
}

/** recorder collects a subscription's events in order. */
function recorder<T = Row>() {
  const events: LiveEvent<T>[] = [];
  const snapshots: SnapshotBatch<T>[] = [];
  return {
    events,
    snapshots,
    handlers: {
      onSnapshot: (b: SnapshotBatch<T>) => {
        snapshots.push(b);
        events.push({ type: "snapshot", ...b });
      },
      onInsert: (row: T) => events.push({ type: "insert", row }),
      onUpdate: (row: T, oldValues: Partial<T>) => events.push({ type: "update", row, oldValues }),
      onDelete: (oldValues: Partial<T>) => events.push({ type: "delete", oldValues }),
      onError: (error: LiveQueryError) => events.push({ type: "error", error }),
    },
    of<K extends LiveEvent<T>["type"]>(type: K) {
      return events.filter((e) => e.type === type) as Extract<LiveEvent<T>, { type: K }>[];
    },
    errors(): LiveQueryError[] {
      return events.filter((e) => e.type === "error").map((e) => (e as { error: LiveQueryError }).error);
    },
  };
}

describe("auth", () => {
  test("login returns tokens and the user; me answers who", async () => {
    const c = fx.srv.client();
    const res = await c.login("alice", "Alice-pass-123");
    assert.equal(res.user.username, "alice");
    assert.equal(res.user.role, "user");
    assert.ok(res.refreshToken);
    assert.ok(res.accessExpiresAt > Date.now() + 3600_000);
    assert.deepEqual(await c.me(), { userId: "alice", role: "user", adminUiAccess: false });
  });

  test("a wrong password is an AuthError INVALID_CREDENTIALS", async () => {
    const c = fx.srv.client();
    await assert.rejects(c.login("alice", "wrong"), (e: unknown) => e instanceof AuthError && e.code === "INVALID_CREDENTIALS" && e.status === 401);
    await assert.rejects(c.sql("SELECT 1"), (e: unknown) => e instanceof AuthError && e.code === "NOT_AUTHENTICATED");
  });

  test("refresh exchanges the refresh token for a new pair that works", async () => {
    const seen: unknown[] = [];
    const c = await login("alice", "Alice-pass-123", { onTokens: (t: unknown) => seen.push(t) });
    const before = c.currentTokens!;
    await sleep(1100); // tokens have second precision
    const t = await c.refresh();
    assert.notEqual(t.accessToken, before.accessToken);
    assert.equal(seen.length, 2);
    assert.equal((await c.me()).userId, "alice");
  });

  test("logout revokes every token of the user", async () => {
    const a1 = await login("bob", "Bob-pass-123");
    const a2 = await login("bob", "Bob-pass-123");
    await a1.logout();
    assert.equal(a1.currentTokens, null);
    await assert.rejects(a2.sql("SELECT 1"), (e: unknown) => e instanceof AuthError && e.code === "INVALID_CREDENTIALS");
    await a2.login("bob", "Bob-pass-123");
    assert.equal((await a2.me()).userId, "bob");
  });

  test("an expired access token is refreshed before a SQL request", async () => {
    const c = fx.srv.client({ autoRefresh: false });
    const refreshToken = mintToken("alice", "user", "refresh", 3600);
    c.setTokens({ accessToken: mintToken("alice", "user", "access", -120), refreshToken, accessExpiresAt: Date.now() - 120_000 });
    const r = await c.sql<{ u: string }>("SELECT CURRENT_USER() AS u");
    assert.equal(r.rows[0].u, "alice");
    assert.notEqual(c.currentTokens!.refreshToken, refreshToken);
  });

  test("a token the server calls expired is refreshed and the statement retried", async () => {
    const c = fx.srv.client({ autoRefresh: false });
    // The client thinks it is valid; the server (past its 60 s leeway) does not.
    c.setTokens({ accessToken: mintToken("alice", "user", "access", -120), refreshToken: mintToken("alice", "user", "refresh", 3600), accessExpiresAt: Date.now() + 3600_000 });
    const r = await c.sql<{ u: string }>("SELECT CURRENT_USER() AS u");
    assert.equal(r.rows[0].u, "alice");
  });
});

describe("sql", () => {
  test("rows are objects; BIGINT as string by default, as bigint on request; params", async () => {
    await fx.root.sql("INSERT INTO app.items (id, name, price) VALUES ($1, $2, $3)", [9007199254740993n, "pen", "1.50"]);
    const r = await fx.root.sql<{ id: string; name: string; price: string }>("SELECT id, name, price FROM app.items WHERE id = $1", [9007199254740993n]);
    assert.deepEqual(r.rows, [{ id: "9007199254740993", name: "pen", price: "1.50" }]);
    assert.deepEqual(
      r.schema.map((c) => [c.name, c.data_type]),
      [
        ["id", "BIGINT"],
        ["name", "TEXT"],
        ["price", "DECIMAL(10,2)"],
      ],
    );
    const big = await fx.srv.root({ int64: "bigint" });
    const rb = await big.sql<{ id: bigint }>("SELECT id FROM app.items WHERE name = $1", ["pen"]);
    assert.equal(rb.rows[0].id, 9007199254740993n);
    const ins = await fx.root.sql("INSERT INTO app.items (id, name) VALUES (1, 'a'), (2, 'b')");
    assert.equal(ins.rowCount, 2);
    assert.match(ins.message ?? "", /Inserted 2/);
    const batch = await fx.root.sqlBatch("SELECT COUNT(*) AS n FROM app.items; SELECT name FROM app.items WHERE id = 2");
    assert.equal(batch.length, 2);
    assert.deepEqual(batch[0].rows, [{ n: "3" }]);
    assert.deepEqual(batch[1].rows, [{ name: "b" }]);
  });

  test("errors are SqlError with the server's code", async () => {
    const cases: [string, string][] = [
      ["SELEC 1", "INVALID_SQL"],
      ["SELECT * FROM app.nope", "NOT_FOUND"],
      ["INSERT INTO app.items (id, name) VALUES (1, 'again')", "DUPLICATE_KEY"],
      ["", "EMPTY_SQL"],
    ];
    for (const [q, code] of cases) {
      await assert.rejects(fx.root.sql(q), (e: unknown) => e instanceof SqlError && e.code === code && e.status === 400, q);
    }
    const alice = await login("alice", "Alice-pass-123");
    await assert.rejects(alice.sql("INSERT INTO app.items (id) VALUES (77)"), (e: unknown) => e instanceof SqlError && e.code === "PERMISSION_DENIED" && e.status === 403);
  });

  test("two users are isolated in USER tables", async () => {
    const alice = await login("alice", "Alice-pass-123");
    const bob = await login("bob", "Bob-pass-123");
    await alice.sql("INSERT INTO app.notes (id, body) VALUES (1, 'alice secret')");
    await bob.sql("INSERT INTO app.notes (id, body) VALUES (1, 'bob secret')");
    assert.deepEqual((await alice.sql("SELECT body FROM app.notes")).rows, [{ body: "alice secret" }]);
    assert.deepEqual((await bob.sql("SELECT body FROM app.notes")).rows, [{ body: "bob secret" }]);
  });
});

describe("live queries", () => {
  test("initial data is paged; changes arrive as insert, update, delete; unsubscribe stops them", async () => {
    const alice = await login("alice", "Alice-pass-123");
    await fx.root.sql("CREATE USER TABLE app.tasks (id BIGINT PRIMARY KEY, title TEXT, done BOOLEAN)");
    const values = Array.from({ length: 10 }, (_, i) => `(${i + 1}, 't${i + 1}', false)`).join(", ");
    await alice.sql(`INSERT INTO app.tasks (id, title, done) VALUES ${values}`);
    const rec = recorder<{ id: string; title: string; done: boolean; _seq: string }>();
    const sub = alice.subscribe("SELECT * FROM app.tasks WHERE done = false", rec.handlers, { batchSize: 3 });
    await waitFor("initial data", () => rec.snapshots.some((s) => s.last));
    assert.equal(rec.snapshots.length, 4, "10 rows in pages of 3");
    assert.ok(rec.snapshots[0].first && !rec.snapshots[0].resumed && !rec.snapshots[1].first);
    assert.deepEqual(
      rec.snapshots.flatMap((s) => s.rows.map((r) => r.id)),
      Array.from({ length: 10 }, (_, i) => String(i + 1)),
    );
    assert.equal(sub.status, "live");
    assert.ok(sub.lastSeq && /^\d+$/.test(sub.lastSeq));

    await alice.sql("INSERT INTO app.tasks (id, title, done) VALUES (11, 'new', false)");
    await alice.sql("UPDATE app.tasks SET title = 'renamed' WHERE id = 2");
    await alice.sql("UPDATE app.tasks SET done = true WHERE id = 3"); // leaves the result
    await alice.sql("DELETE FROM app.tasks WHERE id = 4");
    await waitFor("changes", () => rec.of("delete").length === 2);
    const ins = rec.of("insert");
    assert.deepEqual(ins.map((e) => [e.row.id, e.row.title]), [["11", "new"]]);
    const upd = rec.of("update");
    assert.equal(upd.length, 1);
    assert.equal(upd[0].row.title, "renamed");
    assert.equal(upd[0].oldValues.title, "t2");
    assert.deepEqual(rec.of("delete").map((e) => e.oldValues.id), ["3", "4"]);
    assert.equal(sub.lastSeq, rec.of("delete")[1].oldValues._seq);

    sub.unsubscribe();
    assert.equal(sub.status, "ended");
    const n = rec.events.length;
    await alice.sql("INSERT INTO app.tasks (id, title, done) VALUES (12, 'after', false)");
    await sleep(300);
    assert.equal(rec.events.length, n, "no events after unsubscribe");
  });

  test("two users' subscriptions see only their own rows", async () => {
    const alice = await login("alice", "Alice-pass-123");
    const bob = await login("bob", "Bob-pass-123");
    const ra = recorder();
    const rb = recorder();
    alice.subscribe("SELECT * FROM app.notes", ra.handlers);
    bob.subscribe("SELECT * FROM app.notes", rb.handlers);
    await waitFor("both loaded", () => ra.snapshots.some((s) => s.last) && rb.snapshots.some((s) => s.last));
    assert.deepEqual(ra.snapshots.flatMap((s) => s.rows.map((r) => r.body)), ["alice secret"]);
    assert.deepEqual(rb.snapshots.flatMap((s) => s.rows.map((r) => r.body)), ["bob secret"]);
    await alice.sql("INSERT INTO app.notes (id, body) VALUES (2, 'alice two')");
    await bob.sql("INSERT INTO app.notes (id, body) VALUES (3, 'bob three')");
    await waitFor("inserts", () => ra.of("insert").length === 1 && rb.of("insert").length === 1);
    await sleep(200);
    assert.deepEqual(ra.of("insert").map((e) => e.row.body), ["alice two"]);
    assert.deepEqual(rb.of("insert").map((e) => e.row.body), ["bob three"]);
    alice.close();
    bob.close();
  });

  test("many subscriptions share one connection; async iterator", async () => {
    const c = await fx.srv.root();
    const recs = Array.from({ length: 20 }, () => recorder());
    const subs = recs.map((r, i) => c.subscribe(`SELECT * FROM app.items WHERE id = ${1000 + i}`, r.handlers));
    await waitFor("all loaded", () => subs.every((s) => s.status === "live"));
    const live = await fx.root.sql<{ connection_id: string; subscription_id: string }>("SELECT connection_id, subscription_id FROM system.live WHERE user_id = 'root'");
    const conns = new Set(live.rows.filter((r) => subs.some((s) => r.subscription_id === s.wireId)).map((r) => r.connection_id));
    assert.equal(live.rows.filter((r) => subs.some((s) => r.subscription_id === s.wireId)).length, 20);
    assert.equal(conns.size, 1, "one connection");

    const it = c.subscribe("SELECT * FROM app.items WHERE id >= 2000");
    const got: string[] = [];
    const done = (async () => {
      for await (const ev of it) {
        got.push(ev.type);
        if (ev.type === "insert") break; // breaking out unsubscribes
      }
    })();
    await waitFor("iterator live", () => it.status === "live");
    await fx.root.sql("INSERT INTO app.items (id, name) VALUES (1005, 'x'), (2001, 'y')");
    await done;
    assert.deepEqual(got.filter((t) => t !== "status"), ["snapshot", "insert"]);
    assert.equal(it.status, "ended");
    await waitFor("sub 5 insert", () => recs[5].of("insert").length === 1);
    assert.equal(recs[4].of("insert").length, 0);
    c.close();
  });

  test("errors that end a subscription: INVALID_SQL, NOT_FOUND, KILLED", async () => {
    const c = await fx.srv.root();
    const bad = recorder();
    const s1 = c.subscribe("SELECT * FROM app.items ORDER BY id", bad.handlers);
    const nf = recorder();
    const s2 = c.subscribe("SELECT * FROM app.missing", nf.handlers);
    await waitFor("ended", () => s1.status === "ended" && s2.status === "ended");
    assert.equal(s1.endError?.code, "INVALID_SQL");
    assert.equal(s1.endError?.willRecover, false);
    assert.equal(s2.endError?.code, "NOT_FOUND");
    const k = recorder();
    const s3 = c.subscribe("SELECT * FROM app.items", k.handlers);
    await waitFor("live", () => s3.status === "live");
    const live = await fx.root.sql<{ live_id: string; subscription_id: string }>("SELECT live_id, subscription_id FROM system.live");
    const id = live.rows.find((r) => r.subscription_id === s3.wireId)!.live_id;
    await fx.root.sql(`KILL LIVE QUERY '${id}'`);
    await waitFor("killed", () => s3.status === "ended");
    assert.equal(s3.endError?.code, "KILLED");
    c.close();
  });

  test("SCHEMA_CHANGED is surfaced and the result reloaded in the new shape", async () => {
    await fx.root.sql("CREATE SHARED TABLE app.sc (id BIGINT PRIMARY KEY, a TEXT)");
    await fx.root.sql("INSERT INTO app.sc (id, a) VALUES (1, 'x')");
    const c = await fx.srv.root();
    const view = c.liveView<{ id: string; a: string; b?: string }>("SELECT * FROM app.sc");
    await view.ready();
    await fx.root.sql("ALTER TABLE app.sc ADD COLUMN b TEXT DEFAULT 'dflt'");
    await waitFor("reloaded", () => view.rows[0]?.b === "dflt");
    assert.equal(view.getState().error?.code, "SCHEMA_CHANGED");
    assert.equal(view.getState().error?.willRecover, true);
    await fx.root.sql("INSERT INTO app.sc (id, a, b) VALUES (2, 'y', 'z')");
    await waitFor("insert after reload", () => view.size === 2);
    c.close();
  });

  test("RESUME_UNAVAILABLE is surfaced and the result reloaded from scratch", async () => {
    const c = await fx.srv.root();
    const rec = recorder();
    // A position beyond the server's: the server refuses to resume from it.
    const sub = c.subscribe("SELECT * FROM app.items", rec.handlers, { from: "9223372036854775000" });
    await waitFor("reloaded", () => rec.snapshots.some((s) => s.last));
    assert.deepEqual(rec.errors().map((e) => [e.code, e.willRecover]), [["RESUME_UNAVAILABLE", true]]);
    assert.ok(rec.snapshots[0].first && !rec.snapshots[0].resumed);
    assert.ok(rec.snapshots.flatMap((s) => s.rows).length >= 3);
    assert.equal(sub.status, "live");
    c.close();
  });

  test("TOKEN_EXPIRED without a refresh token ends subscriptions", async () => {
    const c = fx.srv.client();
    c.setTokens({ accessToken: mintToken("alice", "user", "access", 2), accessExpiresAt: Date.now() + 2000 });
    const rec = recorder();
    const sub = c.subscribe("SELECT * FROM app.notes", rec.handlers);
    await waitFor("ended", () => sub.status === "ended", 8000);
    assert.equal(sub.endError?.code, "TOKEN_EXPIRED");
    assert.ok(rec.errors().some((e) => e.code === "TOKEN_EXPIRED" && e.willRecover), "surfaced when the server sent it");
    c.close();
  });

  test("TOKEN_EXPIRED with a refresh token: refreshed, reconnected, resumed without loss", async () => {
    const c = fx.srv.client({ autoRefresh: false });
    c.setTokens({ accessToken: mintToken("alice", "user", "access", 2), refreshToken: mintToken("alice", "user", "refresh", 3600), accessExpiresAt: Date.now() + 2000 });
    const view = c.liveView<{ id: string; body: string }>("SELECT * FROM app.notes");
    await view.ready();
    const alice = await login("alice", "Alice-pass-123");
    const errs: string[] = [];
    view.subscribe(() => {
      const e = view.getState().error;
      if (e && !errs.includes(e.code)) errs.push(e.code);
    });
    let id = 100;
    const deadline = Date.now() + 4000;
    while (Date.now() < deadline) {
      await alice.sql("INSERT INTO app.notes (id, body) VALUES ($1, 'w')", [id++]);
      await sleep(50);
    }
    const count = async () => Number((await alice.sql<{ n: string }>("SELECT COUNT(*) AS n FROM app.notes")).rows[0].n);
    await waitFor("converged", async () => view.size === (await count()));
    assert.ok(view.size > 50);
    assert.ok(errs.includes("TOKEN_EXPIRED"), `errors seen: ${errs}`);
    assert.equal(view.subscription.status, "live");
    c.close();
  });

  test("the token is refreshed before it expires and the connection moved to it (no TOKEN_EXPIRED)", async () => {
    const c = fx.srv.client({ refreshMarginMs: 2500 });
    c.setTokens({ accessToken: mintToken("alice", "user", "access", 4), refreshToken: mintToken("alice", "user", "refresh", 3600), accessExpiresAt: Date.now() + 4000 });
    const first = c.currentTokens!.accessToken;
    const rec = recorder();
    const sub = c.subscribe("SELECT * FROM app.notes", rec.handlers);
    await waitFor("live", () => sub.status === "live");
    await waitFor("refreshed", () => c.currentTokens!.accessToken !== first, 5000);
    await waitFor("live again", () => sub.status === "live");
    const alice = await login("alice", "Alice-pass-123");
    await sleep(3000); // past the first token's expiry
    await alice.sql("INSERT INTO app.notes (id, body) VALUES (500, 'after expiry')");
    await waitFor("insert", () => rec.of("insert").some((e) => e.row.id === "500"));
    assert.deepEqual(rec.errors().map((e) => e.code), [], "no TOKEN_EXPIRED");
    c.close();
  });

  test("MessagePack serialization and bigint rows", async () => {
    const c = await fx.srv.root({ serialization: "msgpack", int64: "bigint" });
    const rec = recorder<{ id: bigint; name: string; price: string | null; _seq: string }>();
    c.subscribe("SELECT * FROM app.items WHERE id > 9000000000000000000", rec.handlers);
    await waitFor("loaded", () => rec.snapshots.some((s) => s.last));
    await fx.root.sql("INSERT INTO app.items (id, name, price) VALUES (9000000000000000001, 'big', '2.25')");
    await waitFor("insert", () => rec.of("insert").length === 1);
    const row = rec.of("insert")[0].row;
    assert.equal(row.id, 9000000000000000001n);
    assert.equal(row.price, "2.25");
    assert.equal(typeof row._seq, "string");
    c.close();
  });

  for (const serialization of ["json", "msgpack"] as const) {
    test(`gzip compression (${serialization}): compressed frames are inflated, in order`, async () => {
      let gzipFrames = 0;
      class Counting extends WebSocket {
        constructor(url: string | URL, protocols?: string | string[]) {
          super(url, protocols);
          this.addEventListener("message", (ev) => {
            const d = ev.data;
            if (d instanceof ArrayBuffer && new Uint8Array(d)[0] === 0x1f) gzipFrames++;
          });
        }
      }
      const table = `app.gz_${serialization}`;
      await fx.root.sql(`CREATE SHARED TABLE ${table} (id BIGINT PRIMARY KEY, body TEXT)`);
      const body = "compressible ".repeat(100);
      await fx.root.sql(`INSERT INTO ${table} (id, body) VALUES (1, $1), (2, $1)`, [body]);
      const c = await fx.srv.root({ compression: "gzip", serialization, WebSocket: Counting });
      const rec = recorder<{ id: string; body: string }>();
      c.subscribe(`SELECT * FROM ${table}`, rec.handlers);
      await waitFor("loaded", () => rec.snapshots.some((s) => s.last));
      for (let i = 3; i < 13; i++) await fx.root.sql(`INSERT INTO ${table} (id, body) VALUES ($1, $2)`, [i, i % 2 ? body : "short"]);
      await waitFor("inserts", () => rec.of("insert").length === 10);
      assert.deepEqual(rec.of("insert").map((e) => Number(e.row.id)), [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      assert.equal(rec.snapshots[0].rows[0].body, body);
      assert.ok(gzipFrames >= 2, `gzip frames: ${gzipFrames}`);
      c.close();
    });
  }

  test("AUTH_REVOKED (logout elsewhere) ends subscriptions", async () => {
    const bob = await login("bob", "Bob-pass-123");
    const other = await login("bob", "Bob-pass-123");
    const sub = bob.subscribe("SELECT * FROM app.notes");
    await waitFor("live", () => sub.status === "live");
    await other.logout();
    await waitFor("ended", () => sub.status === "ended");
    assert.equal(sub.endError?.code, "AUTH_REVOKED");
    bob.close();
  });
});

test("rootPassword login sanity", async () => {
  const c = fx.srv.client();
  await assert.rejects(c.login("root", rootPassword + "x"), AuthError);
});

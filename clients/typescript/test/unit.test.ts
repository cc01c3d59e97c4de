// Pure functions: parameter encoding, MessagePack decoding, ordering, token expiry.
import assert from "node:assert/strict";
import { test } from "node:test";
import { KalamClient, compareSeq, compareValues, decodeMsgpack, tokenExpiry } from "@kalamdb/client";
import { replayWebSocket, waitFor } from "./harness.js";

test("MessagePack: every type the server sends, and malformed input refused", () => {
  // {"type":"change","n":-1,"big":300,"f":1.5,"ok":true,"nil":null,"rows":[{"id":"1"}]}
  const bytes = Uint8Array.from([
    0x87, 0xa4, ...Buffer.from("type"), 0xa6, ...Buffer.from("change"),
    0xa1, 0x6e, 0xff,
    0xa3, ...Buffer.from("big"), 0xcd, 0x01, 0x2c,
    0xa1, 0x66, 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0,
    0xa2, ...Buffer.from("ok"), 0xc3,
    0xa3, ...Buffer.from("nil"), 0xc0,
    0xa4, ...Buffer.from("rows"), 0x91, 0x81, 0xa2, ...Buffer.from("id"), 0xa1, 0x31,
  ]);
  assert.deepEqual(decodeMsgpack(bytes), { type: "change", n: -1, big: 300, f: 1.5, ok: true, nil: null, rows: [{ id: "1" }] });
  assert.throws(() => decodeMsgpack(bytes.subarray(0, bytes.length - 1)), /truncated/);
  assert.throws(() => decodeMsgpack(Uint8Array.from([0x81, 0x01, 0x01])), /key/);
  assert.throws(() => decodeMsgpack(Uint8Array.from([0xc0, 0xc0])), /after/);
  const proto = decodeMsgpack(Uint8Array.from([0x81, 0xa9, ...Buffer.from("__proto__"), 0x01])) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(proto), Object.prototype);
  assert.equal(Object.getOwnPropertyDescriptor(proto, "__proto__")?.value, 1);
  assert.equal(decodeMsgpack(Uint8Array.from([0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), 18446744073709551615n);
});

test("_seq and key ordering is numeric", () => {
  assert.equal(compareSeq("99", "100"), -1);
  assert.equal(compareSeq("382711920304820224", "382711920304820223"), 1);
  assert.ok(compareValues("9", "10") < 0);
  assert.ok(compareValues("9007199254740993", "9007199254740992") > 0);
  assert.ok(compareValues("b", "a") > 0);
  assert.ok(compareValues(null, "a") < 0);
});

test("tokenExpiry reads exp", () => {
  const payload = Buffer.from(JSON.stringify({ exp: 1700000000 })).toString("base64url");
  assert.equal(tokenExpiry(`x.${payload}.y`), 1700000000_000);
  assert.equal(tokenExpiry("garbage"), undefined);
});

test("MessagePack decoder: random and mutated input either decodes or throws a msgpack error", () => {
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000);
  const valid = Uint8Array.from([0x82, 0xa4, ...Buffer.from("type"), 0xa5, ...Buffer.from("hello"), 0xa4, ...Buffer.from("rows"), 0x92, 0x01, 0xcb, 0x40, 0x09, 0x21, 0xf9, 0xf0, 0x1b, 0x86, 0x6e]);
  for (let i = 0; i < 20_000; i++) {
    let buf: Uint8Array;
    if (i % 2 === 0) {
      buf = Uint8Array.from({ length: Math.floor(rand() * 24) }, () => Math.floor(rand() * 256));
    } else {
      buf = valid.slice(0, Math.max(1, Math.floor(rand() * (valid.length + 1))));
      for (let k = 0; k < 3; k++) buf[Math.floor(rand() * buf.length)] = Math.floor(rand() * 256);
    }
    try {
      decodeMsgpack(buf);
    } catch (e) {
      assert.match((e as Error).message, /^msgpack: /, `input ${Buffer.from(buf).toString("hex")}`);
    }
  }
});

test("extra fields in rows (e.g. _deleted) and unknown message types are tolerated", async () => {
  const frames = [
    JSON.stringify({ type: "auth_success", user: "u", role: "user", protocol: { serialization: "json", compression: "none" } }),
    JSON.stringify({ type: "subscription_ack", subscription_id: "x~1", total_rows: 0, batch_control: { batch_num: 0, has_more: true, status: "loading", last_seq_id: "10" }, schema: [{ name: "id", data_type: "BIGINT", index: 0 }] }),
    JSON.stringify({ type: "initial_data_batch", subscription_id: "x~1", rows: [{ id: "1", _seq: "5", _deleted: false }], batch_control: { batch_num: 0, has_more: false, status: "ready", last_seq_id: "10" } }),
    JSON.stringify({ type: "something_new", subscription_id: "x~1", extra: 1 }),
    JSON.stringify({ type: "change", subscription_id: "x~1", change_type: "insert", rows: [{ id: "2", _seq: "11", _deleted: false, _new_field: [1] }], future: true }),
    JSON.stringify({ type: "change", subscription_id: "x~1", change_type: "delete", old_values: [{ id: "1", _seq: "12", _deleted: true }] }),
  ];
  const c = new KalamClient({ url: "http://replay.invalid", WebSocket: replayWebSocket(frames), tokens: { accessToken: "t", accessExpiresAt: Date.now() + 60_000 }, autoRefresh: false });
  const view = c.liveView("SELECT * FROM t", { subscribe: { id: "x" } });
  await waitFor("applied", () => view.applied === 3);
  assert.deepEqual(view.rows.map((r) => r.id), ["2"]);
  assert.equal(view.lastSeq, "12");
  c.close();
});

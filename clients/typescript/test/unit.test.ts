// Pure functions: parameter encoding, MessagePack decoding, ordering, token expiry.
import assert from "node:assert/strict";
import { test } from "node:test";
import { compareSeq, compareValues, decodeMsgpack, tokenExpiry } from "@kalamdb/client";

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

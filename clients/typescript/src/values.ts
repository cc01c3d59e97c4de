/** A result column as the server describes it (`schema` of SQL results and `subscription_ack`). */
export interface Column {
  name: string;
  /** SQL type as the server names it: `BIGINT`, `TEXT`, `DECIMAL(10,2)`, `TIMESTAMP`, ... */
  data_type: string;
  index: number;
}

/**
 * How 64-bit integers (BIGINT columns) are returned. The server sends them as decimal strings,
 * since a JavaScript number loses precision above 2^53:
 * - `"string"` (default): kept as the server's decimal string (`"382711920304820224"`);
 * - `"bigint"`: converted to `bigint` (`382711920304820224n`).
 * `_seq` always stays a string (it is a resume position, not data).
 */
export type Int64Mode = "string" | "bigint";

/** A row as an object keyed by column name. */
export type Row = Record<string, unknown>;

/** int64Columns lists the columns whose values must be converted under mode. */
export function int64Columns(schema: readonly Column[] | undefined, mode: Int64Mode): string[] {
  if (mode !== "bigint" || !schema) return [];
  return schema.filter((c) => c.data_type === "BIGINT" && c.name !== "_seq").map((c) => c.name);
}

/** convertInt64 turns the decimal strings of cols into bigint, in place, and returns row. */
export function convertInt64<T extends Row>(row: T, cols: readonly string[]): T {
  for (const c of cols) {
    const v = row[c];
    if (typeof v === "string" && /^-?\d+$/.test(v)) (row as Row)[c] = BigInt(v);
  }
  return row;
}

/** rowObjects turns the positional rows of an HTTP result into objects keyed by column name. */
export function rowObjects<T>(schema: readonly Column[], rows: readonly unknown[][], cols: readonly string[]): T[] {
  const out: T[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    const o: Row = {};
    for (let j = 0; j < schema.length; j++) o[schema[j].name] = r[j];
    out[i] = convertInt64(o, cols) as T;
  }
  return out;
}

/** A SQL parameter value. bigint is sent as an exact JSON integer, Uint8Array as base64, Date as RFC 3339. */
export type SqlParam = null | boolean | number | bigint | string | Date | Uint8Array;

/**
 * encodeParams returns the JSON text of params. JSON.stringify cannot write bigint, and writing it
 * as a string would make the server parse it as text, so bigints are spliced in as raw digits
 * through a marker no user string can contain (it holds a random nonce).
 */
export function encodeParams(params: readonly SqlParam[]): string {
  const marker = `\u0000kalam${Math.random().toString(36).slice(2)}:`;
  let usedMarker = false;
  const text = JSON.stringify(params, function (this: unknown, _k: string, v: unknown) {
    if (typeof v === "bigint") {
      usedMarker = true;
      return marker + v.toString();
    }
    if (v instanceof Uint8Array) return base64(v);
    return v;
  });
  if (!usedMarker) return text;
  const quoted = JSON.stringify(marker).slice(1, -1);
  return text.split(`"${quoted}`).map((part, i) => (i === 0 ? part : part.replace(/^(-?\d+)"/, "$1"))).join("");
}

function base64(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return btoa(s);
}

/** compareSeq orders two `_seq` decimal strings numerically (they are unsigned 64-bit). */
export function compareSeq(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** maxSeq returns the larger of two `_seq` values (undefined counts as lowest). */
export function maxSeq(a: string | undefined, b: unknown): string | undefined {
  const s = typeof b === "string" ? b : typeof b === "number" || typeof b === "bigint" ? String(b) : undefined;
  if (s === undefined || !/^\d+$/.test(s)) return a;
  if (a === undefined || compareSeq(s, a) > 0) return s;
  return a;
}

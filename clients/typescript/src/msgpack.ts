// A MessagePack decoder for the server's messages (docs/websocket.md, "MessagePack"): maps with
// string keys, arrays, strings, booleans, nil, integers and floats. The server never sends bin or
// ext; they are decoded as Uint8Array / refused. Integers beyond 2^53 cannot occur (64-bit values
// travel as decimal strings), but are returned as bigint rather than rounded if they do.

const decoder = new TextDecoder();

/** decodeMsgpack decodes one MessagePack value that spans all of buf. */
export function decodeMsgpack(buf: Uint8Array): unknown {
  const r = new Reader(buf);
  const v = r.value(0);
  if (r.pos !== buf.length) throw new Error(`msgpack: ${buf.length - r.pos} bytes after the value`);
  return v;
}

class Reader {
  pos = 0;
  private readonly view: DataView;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number): number {
    const p = this.pos;
    if (p + n > this.buf.length) throw new Error("msgpack: truncated");
    this.pos = p + n;
    return p;
  }

  value(depth: number): unknown {
    if (depth > 64) throw new Error("msgpack: nested too deeply");
    const b = this.buf[this.need(1)];
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if ((b & 0xf0) === 0x80) return this.map(b & 0x0f, depth);
    if ((b & 0xf0) === 0x90) return this.array(b & 0x0f, depth);
    if ((b & 0xe0) === 0xa0) return this.str(b & 0x1f);
    const v = this.view;
    switch (b) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return this.bin(v.getUint8(this.need(1)));
      case 0xc5:
        return this.bin(v.getUint16(this.need(2)));
      case 0xc6:
        return this.bin(v.getUint32(this.need(4)));
      case 0xca:
        return v.getFloat32(this.need(4));
      case 0xcb:
        return v.getFloat64(this.need(8));
      case 0xcc:
        return v.getUint8(this.need(1));
      case 0xcd:
        return v.getUint16(this.need(2));
      case 0xce:
        return v.getUint32(this.need(4));
      case 0xcf:
        return safe(v.getBigUint64(this.need(8)));
      case 0xd0:
        return v.getInt8(this.need(1));
      case 0xd1:
        return v.getInt16(this.need(2));
      case 0xd2:
        return v.getInt32(this.need(4));
      case 0xd3:
        return safe(v.getBigInt64(this.need(8)));
      case 0xd9:
        return this.str(v.getUint8(this.need(1)));
      case 0xda:
        return this.str(v.getUint16(this.need(2)));
      case 0xdb:
        return this.str(v.getUint32(this.need(4)));
      case 0xdc:
        return this.array(v.getUint16(this.need(2)), depth);
      case 0xdd:
        return this.array(v.getUint32(this.need(4)), depth);
      case 0xde:
        return this.map(v.getUint16(this.need(2)), depth);
      case 0xdf:
        return this.map(v.getUint32(this.need(4)), depth);
    }
    throw new Error(`msgpack: unsupported type byte 0x${b.toString(16)}`);
  }

  private str(n: number): string {
    const p = this.need(n);
    return decoder.decode(this.buf.subarray(p, p + n));
  }

  private bin(n: number): Uint8Array {
    const p = this.need(n);
    return this.buf.slice(p, p + n);
  }

  private array(n: number, depth: number): unknown[] {
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = this.value(depth + 1);
    return out;
  }

  private map(n: number, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const k = this.value(depth + 1);
      if (typeof k !== "string") throw new Error("msgpack: map key is not a string");
      // defineProperty: a "__proto__" key must stay data, not set the prototype.
      Object.defineProperty(out, k, { value: this.value(depth + 1), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
}

function safe(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

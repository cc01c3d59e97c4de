// Benchmarks of the TypeScript client (numbers in docs/benchmarks.md): bundle size, and how many
// live events per second one client applies.
//
//   npm run bench
//
// Events/s is measured twice: end to end against a real server (server dispatch, socket and
// client together), and client-only by replaying the frames recorded from that server through
// the client's message path (JSON.parse, row conversion, handlers / view upkeep) with a
// WebSocket stand-in that delivers them synchronously.
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import { build } from "esbuild";
import { KalamClient, type Row } from "@kalamdb/client";
import { TestServer, packageRoot, replayWebSocket, waitFor } from "../test/harness.js";

async function bundleSizes(): Promise<void> {
  for (const [entry, external] of [
    ["src/index.ts", []],
    ["src/react.ts", ["react"]],
  ] as const) {
    const out = await build({
      entryPoints: [join(packageRoot, entry)],
      bundle: true,
      minify: true,
      format: "esm",
      target: "es2022",
      external: [...external],
      write: false,
    });
    const code = out.outputFiles[0].contents;
    console.log(`bundle ${entry}: ${code.length} B minified, ${gzipSync(code, { level: 9 }).length} B gzip`);
  }
}

/** Recording wraps the global WebSocket and keeps every frame received. */
function recordingWebSocket(frames: string[]): typeof WebSocket {
  return class extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      this.addEventListener("message", (ev) => {
        if (typeof ev.data === "string") frames.push(ev.data);
      });
    }
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function events(): Promise<void> {
  const srv = await TestServer.start({ KALAMDB_MAX_QUERY_LIMIT: "100000" });
  try {
    const admin = await srv.root();
    await admin.sqlBatch("CREATE NAMESPACE b; CREATE SHARED TABLE b.t (id BIGINT PRIMARY KEY, n INT, body TEXT)");
    // The initial data: 10,000 rows loaded as a snapshot.
    for (let s = 0; s < 10; s++) {
      await admin.sql(`INSERT INTO b.t (id, n, body) VALUES ${Array.from({ length: 1000 }, (_, i) => `(${s * 1000 + i}, 0, 'row ${s * 1000 + i}')`).join(",")}`);
    }
    const frames: string[] = [];
    const c = await srv.root({ WebSocket: recordingWebSocket(frames) });
    const view = c.liveView("SELECT * FROM b.t", { subscribe: { id: "bench", batchSize: 5000 } });
    await view.ready();
    const t0 = performance.now();
    for (let s = 10; s < 40; s++) {
      await admin.sql(`INSERT INTO b.t (id, n, body) VALUES ${Array.from({ length: 1000 }, (_, i) => `(${s * 1000 + i}, 0, 'row ${s * 1000 + i}')`).join(",")}`);
    }
    for (let s = 0; s < 10; s++) await admin.sql(`UPDATE b.t SET n = n + 1 WHERE id >= ${s * 1000} AND id < ${s * 1000 + 1000}`);
    for (let s = 30; s < 40; s++) await admin.sql(`DELETE FROM b.t WHERE id >= ${s * 1000} AND id < ${s * 1000 + 1000}`);
    await waitFor("view converged", () => view.size === 30_000 && view.applied === 10_000 + 50_000, 120_000);
    const e2e = performance.now() - t0;
    console.log(`end to end: 50,000 change events (30k inserts, 10k updates, 10k deletes) applied ${e2e.toFixed(0)} ms after the first write: ${((50_000 / e2e) * 1000).toFixed(0)} events/s`);
    c.close();
    admin.close();

    const total = 60_000; // 10k snapshot rows + 50k changes
    // Rounds interleave the three measures so that machine noise hits them alike:
    // the floor (JSON.parse of the same frames and nothing else), the client with no-op
    // handlers, and the client keeping a materialised view (plus one sort of the result).
    const times: Record<string, number[]> = { floor: [], handlers: [], view: [] };
    for (let round = 0; round < 9; round++) {
      let start = performance.now();
      for (const f of frames) JSON.parse(f);
      times.floor.push(performance.now() - start);
      for (const mode of ["handlers", "view"] as const) {
        const rc = new KalamClient({
          url: "http://replay.invalid",
          WebSocket: replayWebSocket(frames.slice()),
          tokens: { accessToken: "x", accessExpiresAt: Date.now() + 3600_000 },
          autoRefresh: false,
        });
        let n = 0;
        start = performance.now();
        if (mode === "view") {
          const v = rc.liveView<Row>("SELECT * FROM b.t", { subscribe: { id: "bench", batchSize: 5000 } });
          await waitFor("replayed", () => v.applied === total, 60_000);
          v.getState();
        } else {
          rc.subscribe("SELECT * FROM b.t", {
            onSnapshot: (b) => (n += b.rows.length),
            onInsert: () => n++,
            onUpdate: () => n++,
            onDelete: () => n++,
          }, { id: "bench", batchSize: 5000 });
          await waitFor("replayed", () => n === total, 60_000);
        }
        times[mode].push(performance.now() - start);
        rc.close();
      }
    }
    for (const [mode, ts] of Object.entries(times)) {
      const ms = median(ts);
      console.log(`client only, ${mode}: ${total} events in ${ms.toFixed(1)} ms (median of 9): ${((total / ms) * 1000).toFixed(0)} events/s, ${((ms * 1e6) / total).toFixed(0)} ns/event, ${(ms / median(times.floor)).toFixed(2)}x the JSON.parse floor`);
    }
  } finally {
    await srv.stop();
  }
}

await bundleSizes();
await events();

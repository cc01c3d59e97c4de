// The chat example: `make run-example` (or `node examples/chat/serve.mjs`) starts a kalamdb
// server (bin/kalamdb, data in a temporary directory), creates the chat table and the users
// alice and bob (passwords below), and serves the page. Tests import startExample.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const pkg = resolve(here, "../..");
const types = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".json": "application/json" };

export const users = { alice: "Alice-chat-123", bob: "Bob-chat-123" };

/** setupChat creates chat.messages and the users (idempotent). */
export async function setupChat(kalamdbUrl, rootPassword) {
  const login = await (await fetch(kalamdbUrl + "/v1/api/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ user: "root", password: rootPassword }),
  })).json();
  const sql = async (q) => {
    const r = await (await fetch(kalamdbUrl + "/v1/api/sql", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${login.access_token}` },
      body: JSON.stringify({ sql: q }),
    })).json();
    if (r.status !== "success") throw new Error(`${q}: ${r.error?.code} ${r.error?.message}`);
  };
  await sql("CREATE NAMESPACE IF NOT EXISTS chat");
  await sql(
    "CREATE SHARED TABLE IF NOT EXISTS chat.messages (id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(), room TEXT NOT NULL, " +
      "author TEXT DEFAULT CURRENT_USER, body TEXT NOT NULL, sent_at TIMESTAMP DEFAULT NOW()) WITH (ACCESS_LEVEL = 'PUBLIC')",
  );
  for (const [u, p] of Object.entries(users)) await sql(`CREATE USER IF NOT EXISTS ${u} WITH PASSWORD '${p}' ROLE service`);
}

/** servePage serves the page, the built client (dist/) and /config.json on 127.0.0.1:port (0: any). */
export function servePage(kalamdbUrl, port = 0) {
  const server = createServer((req, res) => {
    const path = new URL(req.url, "http://x").pathname;
    if (path === "/config.json") {
      res.writeHead(200, { "Content-Type": types[".json"] });
      return res.end(JSON.stringify({ kalamdbUrl }));
    }
    const [root, rel] = path.startsWith("/client/") ? [join(pkg, "dist"), path.slice(8)] : [here, path === "/" ? "index.html" : path.slice(1)];
    const file = normalize(join(root, rel));
    if (!file.startsWith(root) || ![".html", ".js"].includes(extname(file))) {
      res.writeHead(404);
      return res.end("not found");
    }
    try {
      const body = readFileSync(file);
      res.writeHead(200, { "Content-Type": types[extname(file)], "Cache-Control": "no-store" });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end("not found");
    }
  });
  return new Promise((res) => server.listen(port, "127.0.0.1", () => res(server)));
}

async function main() {
  const port = Number(process.env.PORT ?? 5173);
  const kalamPort = Number(process.env.KALAMDB_PORT ?? 8090);
  const origin = `http://127.0.0.1:${port}`;
  const kalamdbUrl = `http://127.0.0.1:${kalamPort}`;
  const rootPassword = "Root-chat-123";
  const dataDir = mkdtempSync(join(tmpdir(), "kalamdb-chat-"));
  const bin = process.env.KALAMDB_BIN ?? resolve(pkg, "../../bin/kalamdb");
  const proc = spawn(bin, ["server"], {
    stdio: "inherit",
    env: {
      ...process.env,
      KALAMDB_DATA_DIR: dataDir,
      KALAMDB_SERVER_HOST: "127.0.0.1",
      KALAMDB_SERVER_PORT: String(kalamPort),
      KALAMDB_ROOT_PASSWORD: rootPassword,
      KALAMDB_SECURITY_CORS_ALLOWED_ORIGINS: origin,
      KALAMDB_LOG_LEVEL: "warn",
    },
  });
  const stop = () => {
    proc.kill("SIGTERM");
    proc.once("exit", () => {
      rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    });
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(kalamdbUrl + "/readyz")).ok) break;
    } catch {}
    if (i > 300) throw new Error("kalamdb did not start");
    await new Promise((r) => setTimeout(r, 100));
  }
  await setupChat(kalamdbUrl, rootPassword);
  await servePage(kalamdbUrl, port);
  console.log(`chat: open ${origin} (users: ${Object.entries(users).map(([u, p]) => `${u}/${p}`).join(", ")}); kalamdb at ${kalamdbUrl}; Ctrl-C stops both`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();

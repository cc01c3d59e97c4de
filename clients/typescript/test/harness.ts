// Test harness: a real kalamdb server process (bin/kalamdb) on a free loopback port with a
// temporary data directory. Servers can be killed (SIGKILL) and restarted on the same port and
// data, to test reconnects.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { after, before } from "node:test";
import { createHmac } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { KalamClient, type ClientOptions } from "@kalamdb/client";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
export const packageRoot = join(repoRoot, "clients/typescript");
export const rootPassword = "root-Secret-123";
/** The JWT signing secret of test servers, so tests can mint tokens with chosen expiries. */
export const jwtSecret = "test-secret-0123456789abcdefghijklmnopqrstuvwxyz";

/** serverBinary returns bin/kalamdb, building it when missing (or KALAMDB_BIN). */
export function serverBinary(): string {
  if (process.env.KALAMDB_BIN) return process.env.KALAMDB_BIN;
  const bin = join(repoRoot, "bin/kalamdb");
  if (!existsSync(bin)) {
    const r = spawnSync("go", ["build", "-trimpath", "-o", bin, "./cmd/kalamdb"], {
      cwd: repoRoot,
      stdio: "inherit",
      env: { ...process.env, CGO_ENABLED: "0", GOTOOLCHAIN: "local" },
    });
    if (r.status !== 0) throw new Error("while building bin/kalamdb: go build failed");
  }
  return bin;
}

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
    s.on("error", rej);
  });
}

/** Server processes alive, killed when the test process exits however it ends. */
const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const p of running) p.kill("SIGKILL");
});

/** A running test server. */
export class TestServer {
  proc: ChildProcess | undefined;
  readonly url: string;
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    readonly port: number,
    readonly dataDir: string,
    private readonly env: Record<string, string>,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  /** start launches a server with a fresh data dir; env adds KALAMDB_* settings. */
  static async start(env: Record<string, string> = {}): Promise<TestServer> {
    const s = new TestServer(await freePort(), mkdtempSync(join(tmpdir(), "kalamdb-ts-")), env);
    await s.launch();
    return s;
  }

  async launch(): Promise<void> {
    const proc = spawn(serverBinary(), ["server"], {
      env: {
        ...process.env,
        KALAMDB_DATA_DIR: this.dataDir,
        KALAMDB_SERVER_HOST: "127.0.0.1",
        KALAMDB_SERVER_PORT: String(this.port),
        // The 10,000-write view test sends more than the default 100 queries/s per user;
        // these tests are about the client, not the server's rate limit (0 = off).
        KALAMDB_RATE_LIMIT_QUERIES_PER_SEC: "0",
        KALAMDB_ROOT_PASSWORD: rootPassword,
        KALAMDB_JWT_SECRET: jwtSecret,
        KALAMDB_BCRYPT_COST: "4",
        KALAMDB_LOG_LEVEL: "warn",
        KALAMDB_RATE_LIMIT_AUTH_REQUESTS_PER_IP_PER_SEC: "1000",
        ...this.env,
      },
      stdio: ["ignore", "ignore", "inherit"],
    });
    this.proc = proc;
    running.add(proc);
    this.exited = new Promise((r) =>
      proc.once("exit", () => {
        running.delete(proc);
        r();
      }),
    );
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`kalamdb exited with ${proc.exitCode}`);
      try {
        const r = await fetch(this.url + "/readyz");
        if (r.ok) return;
      } catch {
        /* not up yet */
      }
      if (Date.now() > deadline) throw new Error("kalamdb did not become ready in 30s");
      await sleep(30);
    }
  }

  /** kill stops the process abruptly (SIGKILL): no goodbye to clients. */
  async kill(): Promise<void> {
    this.proc?.kill("SIGKILL");
    await this.exited;
    this.proc = undefined;
  }

  /** restart relaunches on the same port and data directory. */
  async restart(): Promise<void> {
    await this.launch();
  }

  /** stop kills the server and removes its data. */
  async stop(): Promise<void> {
    if (this.proc) {
      this.proc.kill("SIGTERM");
      const t = setTimeout(() => this.proc?.kill("SIGKILL"), 10_000);
      await this.exited;
      clearTimeout(t);
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** client returns a client for this server (not logged in). */
  client(opts: Partial<ClientOptions> = {}): KalamClient {
    return new KalamClient({ url: this.url, reconnect: { initialDelayMs: 100, maxDelayMs: 1000 }, ...opts });
  }

  /** root returns a client logged in as root. */
  async root(opts: Partial<ClientOptions> = {}): Promise<KalamClient> {
    const c = this.client(opts);
    await c.login("root", rootPassword);
    return c;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** waitFor polls cond until it is true (or throws after timeoutMs with what). */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * mintToken signs a token like the server does (HS256 with the test secret), with a chosen
 * lifetime: the tests use it for tokens that expire within seconds.
 */
export function mintToken(sub: string, role: string, type: "access" | "refresh", lifetimeSec: number): string {
  const now = Date.now();
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const head = b64({ alg: "HS256", typ: "JWT" });
  const body = b64({
    role,
    token_type: type,
    iat_ms: now,
    iss: "kalamdb",
    sub,
    iat: Math.floor(now / 1000),
    exp: Math.floor(now / 1000) + lifetimeSec,
  });
  const sig = createHmac("sha256", jwtSecret).update(`${head}.${body}`).digest("base64url");
  return `${head}.${body}.${sig}`;
}

/** A test file's server and a root client, filled in by its before hook. */
export interface Fixture {
  srv: TestServer;
  root: KalamClient;
}

/**
 * serverForFile starts one server for the calling test file (node:test before/after hooks) with
 * the extra env, and runs setupSql as root. The fields are set once the before hook ran.
 */
export function serverForFile(setupSql: string, env: Record<string, string> = {}): Fixture {
  const f = {} as Fixture;
  before(async () => {
    f.srv = await TestServer.start(env);
    f.root = await f.srv.root();
    if (setupSql) await f.root.sqlBatch(setupSql);
  });
  after(async () => {
    f.root?.close();
    await f.srv?.stop();
  });
  return f;
}

/**
 * replayWebSocket is a WebSocket stand-in: it answers `authenticate` with frames[0] and the first
 * `subscribe` with the remaining frames, synchronously. For the benchmark (client-only cost of
 * frames recorded from a real server) and for message shapes the server does not send yet.
 */
export function replayWebSocket(frames: string[]): typeof WebSocket {
  class Replay {
    binaryType = "arraybuffer";
    readyState = 1;
    onopen: (() => void) | null = null;
    onmessage: ((ev: { data: string }) => void) | null = null;
    onclose: ((ev: { code: number; reason: string }) => void) | null = null;
    onerror: (() => void) | null = null;
    sent: string[] = [];
    constructor() {
      queueMicrotask(() => this.onopen?.());
    }
    send(data: string): void {
      const m = JSON.parse(data) as { type: string };
      if (m.type === "authenticate") {
        queueMicrotask(() => this.onmessage?.({ data: frames[0] }));
      } else if (m.type === "subscribe") {
        queueMicrotask(() => {
          for (let i = 1; i < frames.length; i++) this.onmessage?.({ data: frames[i] });
        });
      }
    }
    close(): void {}
  }
  return Replay as unknown as typeof WebSocket;
}

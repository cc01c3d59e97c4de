// The chat example in real headless Chromium (Debian's package, driven by playwright-core):
// a message sent by another user shows up within a second, and the screenshot shows it.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { chromium, type BrowserContext } from "playwright-core";
import type { KalamClient } from "@kalamdb/client";
import { TestServer, freePort, packageRoot, rootPassword } from "./harness.js";
import { countPixels, decodePNG } from "./png.js";
import { pathToFileURL } from "node:url";

// The example is plain JavaScript outside the compiled tree: load it from the package.
const example = (await import(pathToFileURL(join(packageRoot, "examples/chat/serve.mjs")).href)) as {
  servePage(kalamdbUrl: string, port: number): Promise<Server>;
  setupChat(kalamdbUrl: string, rootPassword: string): Promise<void>;
  users: { alice: string; bob: string };
};
const { servePage, setupChat, users } = example;

let srv: TestServer;
let page: Server;
let origin: string;
let browser: BrowserContext;
let profile: string;

before(async () => {
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  srv = await TestServer.start({ KALAMDB_SECURITY_CORS_ALLOWED_ORIGINS: origin });
  await setupChat(srv.url, rootPassword);
  page = await servePage(srv.url, port);
  profile = mkdtempSync(join(tmpdir(), "kalamdb-chromium-"));
  // A fresh profile directory (playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(profile, {
    viewport: { width: 800, height: 500 },
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});

after(async () => {
  await browser?.close();
  page?.close();
  await srv?.stop();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

test("chat page shows a message sent by another user within a second; the screenshot shows it", async () => {
  const tab = await browser.newPage();
  const logs: string[] = [];
  tab.on("console", (m) => logs.push(m.text()));
  tab.on("pageerror", (e) => logs.push(String(e)));
  await tab.goto(origin);
  await tab.fill("#user", "bob");
  await tab.fill("#password", users.bob);
  await tab.click("#login button");
  await tab.waitForSelector("body[data-ready=true]", { timeout: 15_000 }).catch((e) => {
    throw new Error(`${e.message}; page log: ${logs.join(" | ")}`);
  });
  const before = decodePNG(await tab.screenshot());

  const sender: KalamClient = srv.client();
  await sender.login("alice", users.alice);
  const text = `hello bob ${Date.now() % 100000}`;
  const sentAt = Date.now();
  await sender.sql("INSERT INTO chat.messages (room, body) VALUES ('general', $1)", [text]);
  const item = tab.locator("li.msg", { hasText: text });
  await item.waitFor({ state: "visible", timeout: 1000 });
  const latency = Date.now() - sentAt;
  assert.ok(latency <= 1000, `shown after ${latency} ms`);
  assert.equal(await item.locator(".author").textContent(), "alice");

  // Bob sends one back through the page; it is rendered as his own.
  await tab.fill("#body", "hi alice");
  await tab.click("#composer button");
  await tab.locator("li.msg.mine", { hasText: "hi alice" }).waitFor({ timeout: 2000 });

  const png = await tab.screenshot();
  const outDir = join(packageRoot, "test-results");
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, "chat.png"), png);
  const shot = decodePNG(png);
  const box = (await item.boundingBox())!;
  const bubble = (r: number, g: number, b: number) => Math.abs(r - 0xdd) < 6 && Math.abs(g - 0xe6) < 6 && Math.abs(b - 0xff) < 6;
  const ink = (r: number, g: number, b: number) => r + g + b < 300;
  const area = box.width * box.height;
  assert.ok(countPixels(shot, box, bubble) > area * 0.5, "the message bubble is painted");
  assert.ok(countPixels(shot, box, ink) > 100, "its text is painted");
  assert.equal(countPixels(before, box, bubble), 0, "and was not there before");
  console.log(`# message shown ${latency} ms after the insert was sent; screenshot ${outDir}/chat.png`);
  sender.close();
  await tab.close();
});

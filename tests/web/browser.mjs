// Shared helpers for the browser tests: Debian's Chromium driven by
// playwright-core (never a downloaded browser), the page served on 127.0.0.1,
// screenshots under test-output/ for a person to look at.
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { serve } from "./serve.mjs";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const OUTPUT = join(ROOT, "test-output", "web");
mkdirSync(OUTPUT, { recursive: true });

/** Playwright gives every non-persistent launch a fresh, empty user-data dir. */
export async function launch(extraArgs = []) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      ...extraArgs,
    ],
  });
  return browser;
}

/** Serves web/ and opens a page; records every request URL so tests can assert nothing leaves 127.0.0.1. */
export async function openPage(browser, { hash = "", colorScheme = "light", viewport = { width: 1200, height: 900 }, isolated = false } = {}) {
  const server = await serve(join(ROOT, "web"), 0, { isolated });
  const base = `http://127.0.0.1:${server.address().port}/`;
  const context = await browser.newContext({ colorScheme, viewport });
  const page = await context.newPage();
  const requests = [];
  page.on("request", (r) => requests.push(r.url()));
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(base + (hash ? `#${hash}` : ""));
  await page.waitForSelector("html[data-ready=true]");
  return { page, server, base, requests, errors, close: async () => { await context.close(); server.close(); } };
}

export async function shot(page, name) {
  await page.screenshot({ path: join(OUTPUT, `${name}.png`), fullPage: true });
}

/** Sets the textarea's value the way typing does (fires input). */
export async function setPath(page, text) {
  await page.fill("#path", text);
}

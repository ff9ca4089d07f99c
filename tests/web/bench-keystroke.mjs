// Benchmark (not a test): validation time per keystroke for a 4 KB path in
// Chromium, measured with the Performance API around each `expand` call the
// page makes (window.__sympath.timings). Usage: node tests/web/bench-keystroke.mjs
import { launch, openPage } from "./browser.mjs";
import { keystrokePath } from "./bench-path.mjs";

const path = keystrokePath();

const browser = await launch();
// Cross-origin isolated: performance.now() to the microsecond, not rounded to 100 µs.
const s = await openPage(browser, { isolated: true });
const { page } = s;
await page.fill("#path", path);
await page.evaluate(() => { window.__sympath.timings.length = 0; });
await page.focus("#path");
await page.keyboard.press("End");
const keys = 300;
for (let i = 0; i < keys; i++) await page.keyboard.type(i % 10 === 9 ? ";" : "x");
const t = await page.evaluate(() => [...window.__sympath.timings]);
t.sort((a, b) => a - b);
const q = (p) => t[Math.min(t.length - 1, Math.floor(p * t.length))];
console.log(JSON.stringify({ path_bytes: new TextEncoder().encode(await page.inputValue("#path")).length, keystrokes: t.length, median_ms: q(0.5), p90_ms: q(0.9), p99_ms: q(0.99), max_ms: t[t.length - 1] }));
await s.close();
await browser.close();

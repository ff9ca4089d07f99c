// The page, driven as a user would in real Chromium.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { launch, openPage, ROOT, setPath, shot } from "./browser.mjs";

const CLI = process.env.SYMPATH_CLI ? join(ROOT, process.env.SYMPATH_CLI) : join(ROOT, "target", "debug", "sympath");

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

function cliExpand(path) {
  let out;
  try {
    out = execFileSync(CLI, ["expand", "--json", "--", path], { encoding: "utf8" });
  } catch (e) {
    out = e.stdout; // exit 1 = the path has errors; the JSON is still printed
  }
  return JSON.parse(out);
}

test("validates on every keystroke, underlines in place, and fixes with a click", async () => {
  const s = await openPage(browser);
  const { page } = s;
  try {
    await page.click("#path");
    await page.keyboard.type(String.raw`srv*C:\sym*http://msdl.microsoft.com/download/symbols;;C:\sym`);
    const codes = await page.$$eval("#diagnostics li .code:nth-child(2)", (els) => els.map((e) => e.textContent));
    assert.deepEqual(codes.sort(), ["SP101", "SP304", "SP401"].sort());
    assert.match(await page.textContent("#summary"), /0 error\(s\), 2 warning\(s\), 1 note\(s\)/);
    // Underlines: one mark per diagnostic in the path, with its severity.
    const marks = await page.$$eval("#backdrop mark", (ms) => ms.map((m) => [m.className, m.textContent]));
    assert.ok(marks.some(([c, t]) => c === "warning" && t === "http://msdl.microsoft.com/download/symbols"), JSON.stringify(marks));
    await shot(page, "01-diagnostics");

    // One-click fix of the http:// problem.
    await page.click('button.fix[data-code="SP401"]');
    assert.equal(await page.inputValue("#path"), String.raw`srv*C:\sym*https://msdl.microsoft.com/download/symbols;;C:\sym`);
    // Fix all removes the empty element; the reuse warning has no automatic fix.
    await page.click("#fix-all");
    assert.equal(await page.inputValue("#path"), String.raw`srv*C:\sym*https://msdl.microsoft.com/download/symbols;C:\sym`);
    const left = await page.$$eval("#diagnostics li .code:nth-child(2)", (els) => els.map((e) => e.textContent));
    assert.deepEqual(left, ["SP304"]);
    // Errors block nothing on the page but are counted in the live region.
    await setPath(page, String.raw`srv*https://h/s*C:\cache`);
    assert.match(await page.textContent("#summary"), /^1 error/);
    assert.equal(await page.getAttribute("#summary", "aria-live"), "polite");
    assert.deepEqual(s.errors, []);
  } finally {
    await s.close();
  }
});

test("hover and the keyboard caret reveal the diagnostic under them", async () => {
  const s = await openPage(browser);
  const { page } = s;
  try {
    await setPath(page, String.raw`C:\a;cache*C:\c`);
    // Caret into the cache* element: the live line names SP301.
    await page.focus("#path");
    await page.evaluate(() => { const t = document.getElementById("path"); t.setSelectionRange(8, 8); t.dispatchEvent(new KeyboardEvent("keyup")); });
    assert.match(await page.textContent("#cursor-diag"), /SP301/);
    // Hover over the underlined text: the tooltip shows the message.
    const box = await page.$eval("#backdrop mark.warning", (m) => { const r = m.getBoundingClientRect(); return { x: r.x + r.width / 2, y: r.y + r.height / 2 }; });
    await page.mouse.move(box.x, box.y);
    assert.equal(await page.isVisible("#tooltip"), true);
    assert.match(await page.textContent("#tooltip"), /SP301/);
    await shot(page, "02-hover");
  } finally {
    await s.close();
  }
});

test("expansion matches the core's (the CLI's JSON) for the spec vectors' paths", async () => {
  const s = await openPage(browser);
  const { page } = s;
  const paths = [
    String.raw`C:\Dir1;C:\Dir2\DirA;C:\Dir2\DirB`,
    String.raw`srv*C:\Program Files\Sym*https://msdl.microsoft.com/download/symbols`,
    "srv*",
    String.raw`srv**\\interim\store*https://internetsite`,
    String.raw`cache*;\\someshare`,
    String.raw`cache*C:\c;cache*D:\d;\\share\s`,
    String.raw`srv*https://a.example/s*C:\cache`,
    "symsrv*https://msdl.microsoft.com/download/symbols",
    String.raw`cache*;srv*https://msdl.microsoft.com/download/symbols;srv*https://symbols.mozilla.org/`,
    "\u00e9t\u00e9;srv*C:\\\u00fc*https://h/s",
    String.raw`cache*C:\c;C:\x;cache*;srv*https://h/s;C:\y;cache*D:\d;C:\z`,
  ];
  try {
    for (const p of paths) {
      await setPath(page, p);
      const shown = await page.evaluate(() => window.__sympath.last);
      const core = cliExpand(p);
      // The whole result, not only the elements: the binding builds it from a
      // skeleton plus the texts and cache lists (crates/sympath-wire).
      assert.deepEqual(shown, core, p);
      assert.deepEqual(shown.diagnostics.map((d) => [d.code, d.span]), core.diagnostics.map((d) => [d.code, d.span]), p);
      assert.equal(await page.textContent("#canonical"), core.canonical, p);
      assert.equal(await page.textContent("#explicit"), core.explicit, p);
      assert.equal(await page.$$eval("#elements > li", (l) => l.length), core.elements.length, p);
    }
    await setPath(page, String.raw`cache*C:\symcache;srv*\\corp\symbols;srv*https://msdl.microsoft.com/download/symbols`);
    const storesText = await page.$$eval("#elements > li[data-type=chain] .stores", (l) => l.map((e) => e.textContent));
    assert.match(storesText[1], /https:\/\/msdl\.microsoft\.com\/download\/symbols/);
    await shot(page, "03-expansion");
  } finally {
    await s.close();
  }
});

test("where will it look: probes in order, mirror rewriting, clear errors", async () => {
  const s = await openPage(browser);
  const { page } = s;
  try {
    await setPath(page, String.raw`C:\local;srv*C:\sym*https://msdl.microsoft.com/download/symbols`);
    await page.selectOption("#kind", "pdb");
    await page.fill("#name", "ntdll.pdb");
    await page.fill("#guid", "0F7FCF88-442F-4B0E-9FB5-1DC4A754D9DE");
    await page.fill("#age", "2");
    await page.fill("#image", "ntdll.dll");
    await page.selectOption("#tiers", "one");
    const rows = await page.$$eval("#probes tbody tr", (trs) => trs.map((tr) => tr.querySelector("td.loc")?.childNodes[0]?.textContent));
    assert.deepEqual(rows.slice(0, 4), [
      String.raw`C:\local\ntdll.pdb`, String.raw`C:\local\dll\ntdll.pdb`, String.raw`C:\local\symbols\dll\ntdll.pdb`,
      String.raw`C:\sym\ntdll.pdb\0F7FCF88442F4B0E9FB51DC4A754D9DE2\ntdll.pdb`,
    ]);
    assert.ok(rows.includes("https://msdl.microsoft.com/download/symbols/ntdll.pdb/0F7FCF88442F4B0E9FB51DC4A754D9DE2/ntdll.pdb"));
    assert.equal(await page.textContent("#key-one-tier"), "ntdll.pdb/0F7FCF88442F4B0E9FB51DC4A754D9DE2/ntdll.pdb");
    // URLs are links.
    assert.ok(await page.$('#probes a[href="https://msdl.microsoft.com/download/symbols/ntdll.pdb/0F7FCF88442F4B0E9FB51DC4A754D9DE2/ntdll.pd_"]'));
    await page.fill("#mirror", "https://mirror.example/");
    assert.ok(await page.$('#probes a[href="https://mirror.example/ntdll.pdb/0F7FCF88442F4B0E9FB51DC4A754D9DE2/ntdll.pdb"]'));
    await shot(page, "04-lookup");
    // A Breakpad debug id works instead of GUID + age.
    await page.fill("#guid", "");
    await page.fill("#age", "");
    await page.fill("#debug-id", "0F7FCF88442F4B0E9FB51DC4A754D9DE2");
    assert.equal(await page.textContent("#key-one-tier"), "ntdll.pdb/0F7FCF88442F4B0E9FB51DC4A754D9DE2/ntdll.pdb");
    // Bad input: a clear error, no crash.
    await page.fill("#debug-id", "not-an-id");
    assert.equal(await page.isVisible("#lookup-error"), true);
    assert.match(await page.textContent("#lookup-error"), /bad-identity: invalid debug id/);
    assert.deepEqual(s.errors, []);
  } finally {
    await s.close();
  }
});

test("a shared URL restores the same view", async () => {
  const s = await openPage(browser);
  let url;
  let probes;
  try {
    const { page } = s;
    await setPath(page, String.raw`srv*C:\sym*https://msdl.microsoft.com/download/symbols`);
    await page.click("#env summary");
    await page.fill("#alt", String.raw`C:\private`);
    await page.selectOption("#kind", "pe");
    await page.fill("#name", "KERNELBASE.dll");
    await page.fill("#code-id", "59BF2BCF1a1000");
    // The fragment follows the inputs once typing pauses (history.replaceState is debounced).
    await page.waitForFunction(() => location.hash.includes("codeid="));
    url = await page.evaluate(() => location.href); // page.url() may lag behind history.replaceState
    probes = await page.$$eval("#probes tbody tr", (trs) => trs.map((t) => t.textContent));
    assert.ok(probes.length > 5);
  } finally {
    await s.close();
  }
  const hash = new URL(url).hash.slice(1);
  const t = await openPage(browser, { hash });
  try {
    const { page } = t;
    assert.equal(await page.inputValue("#path"), String.raw`srv*C:\sym*https://msdl.microsoft.com/download/symbols`);
    assert.equal(await page.inputValue("#alt"), String.raw`C:\private`);
    assert.equal(await page.inputValue("#kind"), "pe");
    assert.equal(await page.inputValue("#code-id"), "59BF2BCF1a1000");
    assert.equal(await page.getAttribute("#env", "open"), "");
    assert.deepEqual(await page.$$eval("#probes tbody tr", (trs) => trs.map((x) => x.textContent)), probes);
    assert.equal((await page.$$eval("#elements > li", (l) => l.length)), 2, "ALT first, then the path");
  } finally {
    await t.close();
  }
});

test("typing writes the URL fragment once it pauses, not on every keystroke", async () => {
  const s = await openPage(browser);
  try {
    const { page } = s;
    await page.evaluate(() => {
      const w = /** @type {any} */ (window);
      w.__replaced = 0;
      const orig = history.replaceState.bind(history);
      history.replaceState = (...a) => { w.__replaced++; return orig(...a); };
    });
    await page.click("#path");
    await page.keyboard.type(String.raw`C:\symbols;srv*C:\sym*https://msdl.microsoft.com/download/symbols`);
    await page.waitForFunction(() => location.hash.includes("download"));
    const replaced = await page.evaluate(() => /** @type {any} */ (window).__replaced);
    // Once per pause (a loaded machine may pause now and then), not once per keystroke.
    assert.ok(replaced >= 1 && replaced < 20, `history.replaceState called ${replaced} times for 67 keystrokes`);
    const hash = await page.evaluate(() => location.hash.slice(1));
    assert.equal(new URLSearchParams(hash).get("p"), String.raw`C:\symbols;srv*C:\sym*https://msdl.microsoft.com/download/symbols`);
  } finally {
    await s.close();
  }
});

test("works with no network: every request stays on the page's own server", async () => {
  const s = await openPage(browser);
  try {
    await setPath(s.page, "srv*");
    for (const u of s.requests) assert.ok(u.startsWith(s.base), u);
    assert.ok(s.requests.some((u) => u.endsWith(".wasm")));
  } finally {
    await s.close();
  }
});

test("readable on a phone, light and dark", async () => {
  for (const [name, opts] of [["05-phone-light", { viewport: { width: 390, height: 844 }, colorScheme: "light" }], ["06-desktop-dark", { colorScheme: "dark" }]]) {
    const s = await openPage(browser, { ...opts, hash: new URLSearchParams({ p: String.raw`srv*C:\sym*http://msdl.microsoft.com/download/symbols;cache*`, kind: "pdb", name: "ntdll.pdb", debugid: "0F7FCF88442F4B0E9FB51DC4A754D9DE2" }).toString() });
    try {
      const overflow = await s.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `${name}: page scrolls sideways by ${overflow}px`);
      const bg = await s.page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
      assert.equal(bg === "rgb(22, 23, 26)", opts.colorScheme === "dark", `${name}: ${bg}`);
      await shot(s.page, name);
    } finally {
      await s.close();
    }
  }
});

test("every form control has an accessible label", async () => {
  const s = await openPage(browser);
  try {
    const unlabeled = await s.page.$$eval("input, select, textarea", (els) =>
      els.filter((e) => !(e.labels && e.labels.length) && !e.getAttribute("aria-label")).map((e) => e.id));
    assert.deepEqual(unlabeled, []);
  } finally {
    await s.close();
  }
});

test("dropping the fixture PE and PDB shows their identity, keys and URLs", async () => {
  const { readFileSync } = await import("node:fs");
  const s = await openPage(browser);
  const { page } = s;
  const store = join(ROOT, "tests", "data", "store");
  const exeRel = "ShowSSEConfig.exe/63E6C7F78000/ShowSSEConfig.exe";
  const pdbRel = "ShowSSEConfig.pdb/A62592418D7807494C4C44205044422E1/ShowSSEConfig.pdb";
  try {
    await setPath(page, "srv*C:\\symbols*https://msdl.microsoft.com/download/symbols");
    await page.selectOption("#tiers", "one");
    // The PE, through the file chooser: its PDB identity fills the form (that is what a debugger looks for).
    await page.setInputFiles("#file", join(store, exeRel));
    await page.waitForSelector("#identity dl");
    const identity = await page.textContent("#identity");
    assert.match(identity, /x86_64/);
    assert.ok(identity.includes("ShowSSEConfig.exe/63E6C7F78000/ShowSSEConfig.exe"), identity);
    assert.ok(identity.includes("ShowSSEConfig.pdb/A62592418D7807494C4C44205044422E1/ShowSSEConfig.pdb"), identity);
    assert.equal(await page.inputValue("#kind"), "pdb");
    assert.equal(await page.inputValue("#image"), "ShowSSEConfig.exe");
    assert.equal(await page.textContent("#key-one-tier"), "ShowSSEConfig.pdb/A62592418D7807494C4C44205044422E1/ShowSSEConfig.pdb");
    assert.ok(await page.$(`#probes a[href="https://msdl.microsoft.com/download/symbols/${pdbRel}"]`));
    await shot(page, "07-dropped-pe");

    // The PDB, by a real drop event on the drop zone.
    const bytes = [...readFileSync(join(store, pdbRel))];
    await page.evaluate((data) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(data)], "ShowSSEConfig.pdb"));
      document.getElementById("drop").dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, bytes);
    await page.waitForFunction(() => document.getElementById("identity").textContent.includes("PDB info age"));
    assert.equal(await page.textContent("#key-one-tier"), "ShowSSEConfig.pdb/A62592418D7807494C4C44205044422E1/ShowSSEConfig.pdb");

    // The compressed .pd_ reads through the CAB; a non-symbol file gets a clear error.
    await page.setInputFiles("#file", join(store, "ShowSSEConfig.pdb/A62592418D7807494C4C44205044422E1/ShowSSEConfig.pd_"));
    await page.waitForFunction(() => document.getElementById("identity").textContent.includes("CAB"));
    await page.setInputFiles("#file", { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("<html>not found</html>") });
    await page.waitForSelector("#identity [role=alert]");
    assert.match(await page.textContent("#identity"), /unsupported/);
    assert.deepEqual(s.errors, []);
  } finally {
    await s.close();
  }
});

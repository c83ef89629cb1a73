"use strict";
// chat_browser.cjs drives the chat example's page in a real, headless
// Chromium through playwright-core (pinned in conformance/package.json):
// two tabs, alice and bob, join room "go"; alice chats, bob types, bob
// sends an image; the server cuts bob's connection, alice chats while he
// is away and his client recovers the session (connection state
// recovery); bob closes his tab. Every step is checked on the page's
// DOM, as a user would see it.
//
//   node chat_browser.cjs <chat URL> [screenshot.png]
//
// The screenshot of alice's tab goes to the second argument, else to
// $GOSIO_SCREENSHOT, else to $GOSIO_ARTIFACTS/chat-alice.png; one of them
// is required (the Go test passes a path under its t.TempDir() or
// $GOSIO_ARTIFACTS: never the repository).
//
// Environment: GOSIO_CHROMIUM (default /usr/bin/chromium), GOSIO_TIMEOUT_MS
// (hard self-timeout, default 60000).
//
// Contract with examples/chat/browser_test.go, as for the conformance
// scripts: the last line on stdout is one JSON object of observations;
// exit status 0 means every step passed, 1 that one failed ("error" and
// "step" say which), 2 that the self-timeout fired. Diagnostics go to
// stderr.

const fs = require("node:fs");
const path = require("node:path");
const zlib = require("node:zlib");

const started = Date.now();
const log = (...a) => process.stderr.write(`[${String(Date.now() - started).padStart(5)}ms] ${a.join(" ")}\n`);

const repoRoot = path.resolve(__dirname, "..", "..", "..");
const chromiumPath = process.env.GOSIO_CHROMIUM || "/usr/bin/chromium";
const timeoutMs = Number(process.env.GOSIO_TIMEOUT_MS || 60000);
const stepTimeout = 10000; // per DOM wait

const result = { ok: false, step: "start", error: "" };
let printed = false;
function finish(code) {
  if (!printed) {
    printed = true;
    result.elapsedMs = Date.now() - started;
    process.stdout.write(JSON.stringify(result) + "\n");
  }
  process.exit(code);
}

// The hard self-timeout: report, kill the browser, exit.
let browser = null;
setTimeout(() => {
  result.error = `self-timeout after ${timeoutMs} ms during step ${result.step}`;
  log(result.error);
  const pid = browser?.process?.()?.pid;
  if (pid) {
    // playwright starts Chromium in a process group of its own: kill it
    // all (renderers, zygote, crashpad), not just the browser process.
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
  }
  finish(2);
}, timeoutMs);

// png returns a w×h RGB PNG: a red, white and blue flag.
function png(w, h) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const raw = Buffer.alloc(h * (1 + 3 * w));
  for (let y = 0; y < h; y++) {
    raw[y * (1 + 3 * w)] = 0; // filter: none
    for (let x = 0; x < w; x++) {
      const rgb = x < w / 3 ? [0, 85, 164] : x < (2 * w) / 3 ? [255, 255, 255] : [239, 65, 53];
      raw.set(rgb, y * (1 + 3 * w) + 1 + 3 * x);
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", zlib.deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

async function step(name, fn) {
  result.step = name;
  log("step:", name);
  return fn();
}

async function main() {
  const url = process.argv[2];
  if (!url) throw new Error("usage: node chat_browser.cjs <chat URL> [screenshot.png]");
  const shot =
    process.argv[3] ||
    process.env.GOSIO_SCREENSHOT ||
    (process.env.GOSIO_ARTIFACTS && path.join(process.env.GOSIO_ARTIFACTS, "chat-alice.png"));
  if (!shot) throw new Error("no screenshot path: pass one as the second argument or set GOSIO_ARTIFACTS");
  result.screenshot = path.resolve(shot);
  const origin = new URL(url).origin;

  let playwright;
  try {
    playwright = require(path.join(repoRoot, "conformance", "node_modules", "playwright-core"));
  } catch (err) {
    throw new Error(`playwright-core is not installed (${err.message}); run make test, or npm ci --prefix conformance`);
  }
  if (!fs.existsSync(chromiumPath)) {
    throw new Error(`${chromiumPath} not found; run make test (make browser-deps), or apt-get install -y chromium`);
  }

  await step("launch", async () => {
    browser = await playwright.chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      // playwright gives it a fresh temporary --user-data-dir.
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
      ],
      timeout: 20000,
    });
    result.browser = browser.version();
  });

  const context = await browser.newContext({ viewport: { width: 800, height: 720 } });
  // Offline: anything but the chat server (a CDN fallback for the client,
  // say) is refused and reported.
  result.offsite = [];
  await context.route("**/*", (route) => {
    const u = route.request().url();
    if (u.startsWith(origin + "/") || u.startsWith("data:") || u.startsWith("blob:")) return route.continue();
    result.offsite.push(u);
    return route.abort();
  });
  result.pageErrors = [];
  result.httpErrors = [];
  const open = async (who) => {
    const page = await context.newPage();
    page.setDefaultTimeout(stepTimeout);
    page.on("pageerror", (err) => result.pageErrors.push(`${who}: ${err.message}`));
    page.on("console", (m) => m.type() === "error" && log(`${who} console:`, m.text()));
    page.on("response", (res) => {
      if (res.status() >= 400 && !res.url().endsWith("/favicon.ico")) result.httpErrors.push(`${who}: ${res.status()} ${res.url()}`);
    });
    await page.goto(url, { waitUntil: "load" });
    return page;
  };
  const lines = (page) => page.$$eval("#log li", (lis) => lis.map((li) => li.textContent));
  const waitLine = (page, text, cls) =>
    page.locator(cls ? `#log li.${cls}` : "#log li", { hasText: text }).first().waitFor();

  const [alice, bob] = await step("open two tabs", () => Promise.all([open("alice"), open("bob")]));

  await step("connect and upgrade to websocket", async () => {
    for (const p of [alice, bob]) await p.locator("#transport", { hasText: /^websocket$/ }).waitFor();
    result.transport = await alice.textContent("#transport");
  });

  const join = async (page, nick) => {
    await page.fill("#nick", nick);
    await page.fill("#room", "go");
    await page.click("#join button");
    await waitLine(page, "you joined #go", "notice");
    await page.locator("#msg:enabled").waitFor();
  };
  await step("alice joins", () => join(alice, "alice"));
  await step("bob joins", () => join(bob, "bob"));
  await step("alice sees bob join", async () => {
    await waitLine(alice, "bob joined", "notice");
    await alice.locator("#members", { hasText: "in #go: alice, bob" }).waitFor();
    result.members = await alice.textContent("#members");
  });

  const text = "hello from alice";
  await step("alice sends a message", async () => {
    await alice.fill("#msg", text);
    await alice.press("#msg", "Enter");
    await waitLine(alice, "alice: " + text);
    await waitLine(bob, "alice: " + text);
    result.chat = {
      alice: (await lines(alice)).filter((l) => l.includes(text)),
      bob: (await lines(bob)).filter((l) => l.includes(text)),
    };
    if ((await alice.inputValue("#msg")) !== "") throw new Error("alice's input was not cleared after sending");
  });

  await step("bob types, alice sees it", async () => {
    // Typing hints are volatile (dropped when alice's connection is busy
    // writing): type again, a few times, if one got lost.
    let attempts = 0;
    for (;;) {
      attempts++;
      await bob.fill("#msg", "");
      await bob.locator("#msg").pressSequentially("hi ali", { delay: 20 });
      try {
        await alice.locator("#typing", { hasText: "bob is typing" }).waitFor({ timeout: 1500 });
        break;
      } catch (err) {
        if (attempts >= 5) throw new Error(`alice never saw "bob is typing" in ${attempts} attempts`);
      }
    }
    result.typing = { text: await alice.textContent("#typing"), attempts };
    // Bob's own tab does not show him typing.
    result.typing.bobOwn = await bob.textContent("#typing");
    await bob.fill("#msg", "");
  });

  const image = png(48, 32);
  await step("bob sends an image", async () => {
    await bob.setInputFiles("#file", { name: "flag.png", mimeType: "image/png", buffer: image });
    const loaded = async (page) => {
      const h = await page.waitForFunction(
        () => {
          const img = document.querySelector("#log img");
          if (!img || !img.complete || img.naturalWidth === 0) return null;
          const li = img.closest("li");
          return {
            naturalWidth: img.naturalWidth,
            naturalHeight: img.naturalHeight,
            scheme: new URL(img.src).protocol,
            alt: img.alt,
            from: li.querySelector(".who")?.textContent ?? "",
          };
        },
        null,
        { timeout: stepTimeout, polling: 50 },
      );
      return h.jsonValue();
    };
    result.image = { bytes: image.length, alice: await loaded(alice), bob: await loaded(bob) };
  });

  // Connection state recovery: the server cuts bob's connection (a test
  // endpoint of browser_test.go closes it server-side, a recoverable
  // reason); alice chats while bob is away; bob's client reconnects by
  // itself, gets his socket back and the messages he missed, once each.
  const dataset = (page) => page.evaluate(() => ({ ...document.body.dataset }));
  const notices = (page, text) => page.locator("#log li.notice", { hasText: new RegExp(`^${text}$`) });
  const missed = ["m1", "m2", "m3"];
  const sent = (l) => /alice: (m\d)$/.exec(l)?.[1];
  await step("server cuts bob's connection, alice chats meanwhile", async () => {
    const before = await dataset(bob);
    const res = await fetch(origin + "/test/cut?nick=bob", { method: "POST" });
    const cut = await res.text();
    if (res.status !== 200) throw new Error(`POST /test/cut: ${res.status} ${cut}`);
    for (const m of missed) {
      await alice.fill("#msg", m);
      await alice.press("#msg", "Enter");
      await waitLine(alice, "alice: " + m);
    }
    // The test server holds new handshakes from the cut until this
    // release: bob cannot have come back yet, whatever the pace.
    const during = await dataset(bob);
    const rel = await fetch(origin + "/test/release", { method: "POST" });
    if (rel.status !== 200) throw new Error(`POST /test/release: ${rel.status}`);
    result.recovery = {
      cut: JSON.parse(cut),
      before,
      connectsAfterSends: Number(during.connects),
      bobTransportAfterSends: await bob.textContent("#transport"),
    };
  });
  await step("bob recovers: same id, the missed messages once each", async () => {
    const want = String(Number(result.recovery.before.connects) + 1);
    await bob.waitForFunction((n) => document.body.dataset.connects === n, want, { timeout: stepTimeout, polling: 50 });
    // A message sent now reaches bob after anything the recovery
    // delivered, duplicates included.
    await alice.fill("#msg", "welcome back");
    await alice.press("#msg", "Enter");
    await waitLine(bob, "alice: welcome back");
    await alice.locator("#members", { hasText: /^in #go: alice, bob$/ }).waitFor();
    const bobLines = await lines(bob);
    result.recovery.after = await dataset(bob);
    result.recovery.bobMessages = bobLines.map(sent).filter(Boolean);
    result.recovery.aliceMessages = (await lines(alice)).map(sent).filter(Boolean);
    result.recovery.bobNotices = await bob.$$eval("#log li.notice", (lis) => lis.map((li) => li.textContent));
    result.recovery.bobMembers = await bob.textContent("#members");
    result.recovery.aliceMembers = await alice.textContent("#members");
    result.recovery.aliceNotices = (await alice.$$eval("#log li.notice", (lis) => lis.map((li) => li.textContent))).filter((n) =>
      n.startsWith("bob "),
    );
  });

  await step("bob closes his tab, alice sees him leave", async () => {
    await bob.close({ runBeforeUnload: false });
    // The second "bob left": the first was the cut.
    await notices(alice, "bob left").nth(1).waitFor();
    await alice.locator("#members", { hasText: /^in #go: alice$/ }).waitFor();
    result.left = { notice: "bob left", members: await alice.textContent("#members") };
  });

  await step("screenshot", async () => {
    fs.mkdirSync(path.dirname(result.screenshot), { recursive: true });
    await alice.screenshot({ path: result.screenshot, fullPage: true });
    result.screenshotBytes = fs.statSync(result.screenshot).size;
    result.aliceLog = await lines(alice);
  });

  await step("close", () => browser.close());
  browser = null;
  result.ok = true;
  result.step = "done";
}

main().then(
  () => finish(0),
  async (err) => {
    result.error = String(err && err.message ? err.message : err).split("\n")[0];
    log("FAILED at", result.step + ":", err && err.stack ? err.stack : err);
    try {
      // A screenshot of whatever alice's tab shows helps the diagnosis.
      const pages = browser ? browser.contexts().flatMap((c) => c.pages()) : [];
      if (pages[0] && result.screenshot) {
        fs.mkdirSync(path.dirname(result.screenshot), { recursive: true });
        await pages[0].screenshot({ path: result.screenshot, timeout: 3000 });
      }
    } catch {}
    try {
      await browser?.close();
    } catch {}
    finish(1);
  },
);

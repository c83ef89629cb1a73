"use strict";
// Drives the official engine.io-client (pinned in ../package-lock.json)
// through one scenario against an Engine.IO server, and prints what it saw as
// one JSON line on stdout. The Go tests in ../engineio_test.go start the
// server, run this script and assert on both sides.
//
//   node scripts/engineio_client.cjs \
//     --url=http://127.0.0.1:PORT --transports='["polling","websocket"]' \
//     --scenario=text_echo [--path=/engine.io/] [--timeout=20000] [--linger=3000]
//
// Every flag has an environment fallback: GOSIO_URL, GOSIO_TRANSPORTS,
// GOSIO_SCENARIO, GOSIO_PATH, GOSIO_TIMEOUT, GOSIO_LINGER.
// DEBUG=engine.io-client:* prints the client's own traces on stderr.
//
// Scenarios (what the client does; the server's part is in the Go test):
//   text_echo     sends "hello" and a UTF-8 string with emoji, waits for 2 messages
//   binary_echo   sends Buffer [1,2,3,4] and 500 KiB of random bytes, waits for 2 messages
//   large_text    sends a 500 KiB string (ASCII and emoji), waits for 1 message
//   server_push   sends nothing, waits for the 2 messages the server pushes
//   server_close  sends "close me", waits for the server to close the session
//   client_close  calls socket.close()
//
// The data scenarios start on "open"; with transports ["polling","websocket"]
// they then also wait for the "upgrade" event before closing the socket, so
// their traffic may cross the upgrade. The close scenarios start only once
// the connection is ready (open, and upgraded when an upgrade is expected),
// so the close always happens on the final transport.
//
// Result fields: ok, error, scenario, transports, expectUpgrade, step, sid,
// openTransport, upgrades (transport names from "upgrade" events),
// finalTransport (at close), sent and received (message records: type,
// length, sha256, and data or hex for small ones), close {reason,
// description}, errors and upgradeErrors (strings), events (ordered event
// names), lingered, elapsedMs.

const crypto = require("node:crypto");
const { Socket } = require("engine.io-client");
const { log, clientSetup, describe, describeClose, message, run } = require("./harness.cjs");

// Payloads. The Go test checks that what was sent is what it expects, so
// keep these in sync with the constants in ../engineio_test.go.
const HELLO = "hello";
const UNICODE = "héllo wörld 👋🌍 — ünïcødé ✓ 日本語";
const CLOSE_ME = "close me";
const LARGE = 500 * 1024;

function largeText() {
  // 500 chunks of 1020 random ASCII characters and one 4-byte emoji:
  // 512000 UTF-8 bytes, exercising multi-byte characters in a big payload.
  const alphabet = Buffer.from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ");
  const emoji = Buffer.from("😀");
  const out = Buffer.alloc(LARGE);
  const rnd = crypto.randomBytes(LARGE);
  for (let off = 0; off < LARGE; off += 1024) {
    for (let i = off; i < off + 1024 - emoji.length; i++) out[i] = alphabet[rnd[i] % alphabet.length];
    emoji.copy(out, off + 1024 - emoji.length);
  }
  return out.toString("utf8");
}

const scenarios = {
  text_echo: { start: "open", payloads: () => [HELLO, UNICODE], expect: 2 },
  binary_echo: {
    start: "open",
    payloads: () => [Buffer.from([1, 2, 3, 4]), crypto.randomBytes(LARGE)],
    expect: 2,
  },
  large_text: { start: "open", payloads: () => [largeText()], expect: 1 },
  server_push: { start: "open", payloads: () => [], expect: 2 },
  server_close: { start: "ready", payloads: () => [CLOSE_ME], expect: 0, serverCloses: true },
  client_close: { start: "ready", payloads: () => [], expect: 0 },
};

const { args, transports, expectUpgrade, result } = clientSetup(
  { url: "", path: "/engine.io/" },
  "connecting",
  {
    sid: null,
    openTransport: null,
    upgrades: [],
    finalTransport: null,
    sent: [],
    received: [],
    close: null,
    errors: [],
    upgradeErrors: [],
    events: [],
  },
);
const scenario = scenarios[args.scenario];

run({
  result,
  timeoutMs: Number(args.timeout),
  lingerMs: Number(args.linger),
  body(finish) {
    if (!args.url) throw new Error("--url is required");
    if (!scenario) {
      throw new Error(
        `unknown scenario ${JSON.stringify(args.scenario)}; known: ${Object.keys(scenarios).join(", ")}`,
      );
    }
    log(`scenario ${args.scenario}, transports ${args.transports}, url ${args.url}`);

    // Build the payloads before connecting: generating 500 KiB must not
    // hold up the event loop while the connection's heartbeat runs.
    const payloads = scenario.payloads();

    const socket = new Socket(args.url, {
      transports,
      path: args.path,
      upgrade: transports.length > 1,
    });

    let opened = false;
    let started = false;
    let closing = false; // we closed, or expect the server to

    const step = (s) => {
      result.step = s;
      log("step:", s);
    };

    const ready = () => opened && (!expectUpgrade || result.upgrades.length > 0);

    const startScenario = () => {
      started = true;
      step(`sending ${payloads.length} message(s)`);
      for (const p of payloads) {
        result.sent.push(describe(p));
        socket.send(p);
      }
      if (scenario.serverCloses) {
        closing = true;
        step("waiting for the server to close");
      } else if (args.scenario === "client_close") {
        closeSocket();
      } else {
        progress();
      }
    };

    const closeSocket = () => {
      closing = true;
      result.finalTransport = socket.transport ? socket.transport.name : null;
      step("closing the socket");
      socket.close();
    };

    // progress moves the data scenarios along: after the expected messages
    // (and the upgrade, if one is expected), close the socket.
    const progress = () => {
      if (!started || closing) return;
      if (result.received.length < scenario.expect) {
        step(`waiting for message ${result.received.length + 1} of ${scenario.expect}`);
        return;
      }
      if (expectUpgrade && result.upgrades.length === 0) {
        step("waiting for the upgrade");
        return;
      }
      closeSocket();
    };

    socket.on("open", () => {
      opened = true;
      result.events.push("open");
      result.sid = socket.id;
      result.openTransport = socket.transport.name;
      log(`open: sid ${socket.id} over ${socket.transport.name}`);
      if (scenario.start === "open" || ready()) startScenario();
      else step("waiting for the upgrade before starting");
    });

    socket.on("message", (data) => {
      const rec = describe(data);
      result.events.push("message");
      result.received.push(rec);
      log("message:", { type: rec.type, length: rec.length, data: rec.data, hex: rec.hex });
      progress();
    });

    socket.on("upgrade", (transport) => {
      result.events.push("upgrade");
      result.upgrades.push(transport.name);
      log(`upgrade: now on ${transport.name}`);
      // The client emits "upgrade" before it has finished switching
      // (socket.upgrading is still true): a close() from inside this
      // listener would wait for another upgrade that never comes. Act on
      // the next turn of the event loop instead.
      setImmediate(() => {
        if (!started && ready()) startScenario();
        else progress();
      });
    });

    socket.on("upgradeError", (err) => {
      result.events.push("upgradeError");
      result.upgradeErrors.push(message(err));
      log("upgradeError:", String(err));
    });

    socket.on("error", (err) => {
      result.events.push("error");
      result.errors.push(message(err));
      log("error:", String(err));
    });

    socket.on("close", (reason, description) => {
      result.events.push("close");
      if (result.finalTransport === null && socket.transport) {
        result.finalTransport = socket.transport.name;
      }
      result.close = { reason: String(reason), description: describeClose(description) };
      log("close:", result.close);
      if (!closing) {
        finish(new Error(`unexpected close (${reason}) at step: ${result.step}`));
        return;
      }
      finish();
    });
  },
});

"use strict";
// Drives the official socket.io-client (pinned in ../package-lock.json)
// through one scenario against a Socket.IO server, and prints what it saw as
// one JSON line on stdout. The Go tests in ../socketio_test.go start the
// server, run this script and assert on both sides.
//
//   node scripts/socketio_client.cjs \
//     --url=http://127.0.0.1:PORT --transports='["polling","websocket"]' \
//     --scenario=namespaces [--path=/socket.io/] [--timeout=20000] [--linger=3000]
//
// Every flag has an environment fallback: GOSIO_URL, GOSIO_TRANSPORTS,
// GOSIO_SCENARIO, GOSIO_PATH, GOSIO_TIMEOUT, GOSIO_LINGER.
// DEBUG='socket.io-client:*,engine.io-client:*' prints the client's own
// traces on stderr.
//
// A scenario opens one or more Managers (one Engine.IO connection each),
// with one or more sockets (namespaces) on each. Every socket sends
// {name: <socket name>, ...} as its auth payload, so that the server can
// tell the scenario's clients apart. The server's part of every scenario is
// in the Go test: the client triggers the server's actions with events
// ("fanout", "disconnect_me", …) and waits for their effects, never for
// time to pass.
//
// With transports ["polling","websocket"] every connection must upgrade:
// a scenario waits for the upgrade of its connections before it ends, and
// before any step that closes them (so that every close happens on the
// final transport). Data then crosses the upgrade.
//
// Result fields: ok, error, scenario, transports, expectUpgrade, step,
// managers, sockets, obs, lingered, elapsedMs.
//   managers[]  {name, engines: [{id, openTransport, upgrades, upgradeErrors,
//               finalTransport, close: {reason, description}}], reconnects,
//               errors ("error" events)}
//               (one engine per Engine.IO connection the Manager opened)
//   sockets[]   {name, nsp, manager, connections: [{id, engineId}],
//               disconnects: [{reason, description}], connectErrors:
//               [{message, data}], events: [{event, args}] (onAny),
//               outgoing: [{event, args}] (onAnyOutgoing), timeline:
//               ["connect", "event: <name>", "disconnect: <reason>", …]}
//   obs         what the scenario observed beyond that (acks, timings, …)
// Arguments are reported as JSON where binary values become
// {"$binary": {length, sha256, hex (up to 256 bytes)}}, functions (ack
// callbacks) {"$function": true} and undefined {"$undefined": true}.

const crypto = require("node:crypto");
const { Manager } = require("socket.io-client");
const { clientSetup, message, encode, binaryTypes, sioRecorder, runScenario } = require("./harness.cjs");

// Payloads. The Go test checks what the client sent against what the
// server received, so most of them need not be repeated there; the few
// constants the Go side checks against are marked.
const UNICODE = "héllo wörld 👋🌍 — ünïcødé ✓ 日本語"; // = unicodeText in Go
const JSON_TYPES = [
  UNICODE,
  "",
  'quote" backslash\\ slash/ \n\r\t\b\f \u0000\u001f \u007f \u2028\u2029 <tag>&amp;',
  0,
  42,
  -7,
  3.14159,
  -0.5,
  0.1 + 0.2,
  1e21,
  5e-324,
  1.7976931348623157e308,
  9007199254740991,
  -9007199254740991,
  true,
  false,
  null,
  [],
  {},
  [1, "two", [3, [4, [5, []]]], { six: 6 }, null, true],
  { a: { b: { c: [1, { d: null }], e: "" } }, "k é y 🔑": "v", "": "empty key", n: -1.25 },
];
const UNICODE_EVENT = "évènement 🎉"; // = unicodeEvent in Go
const BIG = 1024 * 1024; // bytes of the large binary argument (= largeBinary in Go)
const ROLL_CALL_CLIENTS = 5; // = rollCallClients in Go
const VOLATILE_ATTEMPTS = 20; // = volatileAttempts in Go

const { args, transports, expectUpgrade, result } = clientSetup(
  { url: "", path: "/socket.io/" },
  "starting",
  { managers: [], sockets: [], obs: {} },
);
const obs = result.obs;

// ---------------------------------------------------------------------------
// Managers (connections) and sockets (namespaces), recorded by harness.cjs.

const recorder = sioRecorder({ result, Manager, path: args.path, transports, expectUpgrade });
const { step, until, socket, upgraded, emitWithAck, allClosed, closeAll } = recorder;

/** manager opens one Engine.IO connection (a socket.io-client Manager). */
function manager(name, opts = {}) {
  return recorder.manager(name, args.url, { opts });
}

function connected(...cs) {
  return until(`${cs.map((c) => c.name).join(", ")} to connect`, () => cs.every((c) => c.s.connected));
}

function received(c, event, n = 1) {
  return until(`${c.name} to receive ${n} ${JSON.stringify(event)}`, () => c.count(event) >= n);
}

/** ack emits an event with a callback and resolves with all ack arguments. */
function ack(c, event, ...a) {
  step(`${c.name}: emit ${event} with an ack callback`);
  return new Promise((resolve) => c.s.emit(event, ...a, (...res) => resolve(res)));
}

/** clients opens n managers with one main-namespace socket each, c0…. */
async function clients(n, opts = {}) {
  const cs = [];
  for (let i = 0; i < n; i++) cs.push(socket(manager(`m${i}`), "/", `c${i}`, opts));
  await connected(...cs);
  return cs;
}

// ---------------------------------------------------------------------------
// Scenarios. Each is an async function; its server part is in the Go test
// of the same name.

const scenarios = {
  // Two namespaces multiplexed on one connection.
  async namespaces() {
    const m = manager("m0");
    const main = socket(m, "/", "main");
    const custom = socket(m, "/custom", "custom");
    await connected(main, custom);
    await received(main, "welcome");
    await received(custom, "welcome");
    obs.whoami = {
      main: encode(await emitWithAck(main, "whoami")),
      custom: encode(await emitWithAck(custom, "whoami")),
    };
    await upgraded(m);
    await closeAll();
  },

  // srv.OfRegexp(/^\/dyn-\d+$/): two children and one unmatched name.
  async dynamic_namespaces() {
    const m = manager("m0");
    const d1 = socket(m, "/dyn-1", "dyn1");
    const d22 = socket(m, "/dyn-22", "dyn22");
    const bad = socket(m, "/dyn-x", "dynx");
    await connected(d1, d22);
    await until("connect_error on /dyn-x", () => bad.rec.connectErrors.length > 0);
    obs.whoami = {
      dyn1: encode(await emitWithAck(d1, "whoami")),
      dyn22: encode(await emitWithAck(d22, "whoami")),
    };
    obs.badActive = bad.s.active;
    await upgraded(m);
    await closeAll();
  },

  // Auth payloads, and middleware refusing with and without data.
  async auth() {
    const mGood = manager("good", { query: { q: "1", list: "ü" } });
    const mBad = manager("bad");
    const good = socket(mGood, "/", "good", {
      auth: { token: "secret", user: UNICODE, n: 1.5, nested: { list: [1, null, "x"] } },
    });
    const bad = socket(mBad, "/", "bad", { auth: { token: "wrong" } });
    const plain = socket(mGood, "/plain", "plain");
    await connected(good);
    await until("connect_error for bad and plain", () =>
      bad.rec.connectErrors.length > 0 && plain.rec.connectErrors.length > 0,
    );
    obs.badActive = bad.s.active;
    obs.plainActive = plain.s.active;
    obs.authEcho = encode(await ack(good, "auth"));
    await upgraded(mGood);
    await closeAll();
  },

  // Every JSON type, client → server → client.
  async json_types() {
    const [c] = await clients(1);
    obs.sent = JSON_TYPES;
    c.s.emit("types", ...JSON_TYPES);
    obs.unicodeEvent = encode(await ack(c, UNICODE_EVENT, UNICODE));
    await received(c, "types");
    await received(c, "go_types");
    await upgraded(c.mgr);
    await closeAll();
  },

  // Binary values at any depth, several per event, 1 MiB, both ways.
  async binary() {
    const [c] = await clients(1);
    const ab = new Uint8Array([0xab, 0xcd, 0xef]).buffer;
    const payload = [
      Buffer.from([1, 2, 3]),
      {
        name: "file.bin",
        data: crypto.randomBytes(300),
        nested: [crypto.randomBytes(5), { deep: crypto.randomBytes(7), text: UNICODE }],
      },
      [crypto.randomBytes(2), "between", crypto.randomBytes(3)],
      crypto.randomBytes(BIG),
      ab,
      Buffer.alloc(0),
    ];
    obs.sent = encode(payload);
    obs.sentTypes = binaryTypes(payload);
    // The records hold encoded values; the JS classes come from listeners.
    c.s.on("bin", (...a) => (obs.receivedTypes = binaryTypes(a)));
    c.s.on("bin_server", (...a) => (obs.serverTypes = binaryTypes(a)));
    c.s.emit("bin", ...payload);
    await received(c, "bin");
    await received(c, "bin_server");
    await upgraded(c.mgr);
    await closeAll();
  },

  // Acknowledgements both ways, with JSON and binary arguments.
  async acks() {
    const [c] = await clients(1);
    c.s.on("double", (x, bin, cb) => {
      obs.doubleArgs = encode([x, bin, typeof cb]);
      cb(x * 2, Buffer.from([42, 43]), { ok: true });
    });
    c.s.on("empty", (cb) => cb());
    obs.sumWithAck = encode(await emitWithAck(c, "sum", 1, 2, Buffer.from([7, 8])));
    obs.sumAll = encode(await ack(c, "sum", 40, 2, Buffer.from([9])));
    obs.emptyAck = encode(await ack(c, "empty_ack"));
    obs.serverAck = encode(await emitWithAck(c, "start_server_ack"));
    obs.serverEmptyAck = encode(await emitWithAck(c, "start_server_empty_ack"));
    await upgraded(c.mgr);
    await closeAll();
  },

  // Ack timeouts both ways; a late ack is ignored by the server.
  async ack_timeouts() {
    const [c] = await clients(1);
    let pending = null;
    c.s.on("client_never_acks", (x, cb) => {
      obs.neverAckReceived = encode([x, typeof cb]);
      pending = cb;
    });
    const t0 = Date.now();
    try {
      const r = await c.s.timeout(100).emitWithAck("never_ack", 1);
      obs.clientTimeout = { resolved: encode(r) };
    } catch (err) {
      obs.clientTimeout = { error: message(err), elapsedMs: Date.now() - t0 };
    }
    obs.serverTimeout = encode(await emitWithAck(c, "start_server_timeout"));
    if (pending) pending("late"); // after the server gave up
    obs.alive = encode(await emitWithAck(c, "alive"));
    await upgraded(c.mgr);
    await closeAll();
  },

  // Rooms, except and sender exclusion with four clients:
  // c0 in a, c1 in a and b, c2 in b, c3 in no room.
  async broadcast() {
    const cs = await clients(4);
    const rooms = [["a"], ["a", "b"], ["b"], []];
    obs.joined = [];
    for (let i = 0; i < cs.length; i++) obs.joined.push(encode(await emitWithAck(cs[i], "join", rooms[i])));
    obs.fanout = encode(await emitWithAck(cs[0], "fanout", cs[3].s.id));
    for (const c of cs) await received(c, "done");
    await upgraded(...cs.map((c) => c.mgr));
    await closeAll();
  },

  // A volatile emit reaches an idle client. A volatile packet may be
  // dropped when the transport is busy (a pong, the previous answer), so
  // the client asks again, up to VOLATILE_ATTEMPTS times.
  async volatile() {
    const [c] = await clients(1);
    await upgraded(c.mgr);
    obs.attempts = 0;
    for (let i = 1; i <= VOLATILE_ATTEMPTS && c.count("vol") === 0; i++) {
      obs.attempts = i;
      // Let the client go idle (a polling GET waiting) before asking.
      await new Promise((resolve) => setImmediate(resolve));
      await emitWithAck(c, "vol_req", i);
    }
    await closeAll();
  },

  // The three ways a socket ends, each on its own connection:
  // A calls socket.disconnect(); the server calls Disconnect(false) on B
  // and Disconnect(true) on C, which also has a /custom socket.
  async disconnect_reasons() {
    const mA = manager("mA");
    const mB = manager("mB");
    const mC = manager("mC");
    const a = socket(mA, "/", "A");
    const b = socket(mB, "/", "B");
    const c = socket(mC, "/", "C");
    const c2 = socket(mC, "/custom", "C2");
    await connected(a, b, c, c2);
    await upgraded(mA, mB, mC);
    step("A disconnects itself; B and C ask the server to disconnect them");
    a.s.disconnect();
    b.s.emit("disconnect_me", false);
    c.s.emit("disconnect_me", true);
    await until("B, C and C2 to be disconnected", () =>
      [b, c, c2].every((x) => x.rec.disconnects.length > 0),
    );
    await until("every connection to close", allClosed);
    obs.active = Object.fromEntries([a, b, c, c2].map((x) => [x.name, x.s.active]));
    await closeAll();
  },

  // The server closes the connection; the client reconnects on its own.
  async reconnection() {
    const m = manager("m0", { reconnectionDelay: 50, reconnectionDelayMax: 100, randomizationFactor: 0 });
    const c = socket(m, "/", "c0");
    await connected(c);
    await upgraded(m);
    c.s.emit("close_conn");
    await until("the second connection", () => c.rec.connections.length >= 2 && c.s.connected);
    await upgraded(m);
    obs.whoami = encode(await emitWithAck(c, "whoami"));
    await closeAll();
  },

  // Connection state recovery: the server cuts the connection after "ready"
  // and broadcasts while the client is away; the client reconnects on its
  // own with {pid, offset}. The same script serves the expired case; the Go
  // test decides what must have happened. Event arguments are recorded
  // exactly (with the offset the server appends); states snapshots the
  // socket at each connect, disconnect and event.
  async recovery() {
    const m = manager("m0", { reconnectionDelay: 50, reconnectionDelayMax: 100, randomizationFactor: 0 });
    const c = socket(m, "/", "c0");
    obs.states = [];
    const snap = (when) =>
      obs.states.push({
        when,
        id: c.s.id === undefined ? null : c.s.id,
        connected: c.s.connected,
        recovered: encode(c.s.recovered),
        pid: c.s._pid === undefined ? null : c.s._pid,
        lastOffset: c.s._lastOffset === undefined ? null : c.s._lastOffset,
      });
    c.s.on("connect", () => snap("connect"));
    c.s.on("disconnect", () => snap("disconnect"));
    c.s.onAny((event) => snap(`event: ${event}`));
    await connected(c);
    await upgraded(m);
    c.s.emit("ready");
    await until("the second connection", () => c.rec.connections.length >= 2 && c.s.connected);
    await upgraded(m);
    obs.whoami = encode(await emitWithAck(c, "whoami"));
    await received(c, "after");
    snap("end");
    await closeAll();
  },

  // onAny / onAnyOutgoing on both sides.
  async catch_all() {
    const [c] = await clients(1);
    await received(c, "hello");
    c.s.emit("e1", 1);
    c.s.emit("e2", "x", { y: true });
    obs.fin = encode(await emitWithAck(c, "fin"));
    await received(c, "bcast");
    await upgraded(c.mgr);
    await closeAll();
  },

  // srv.FetchSockets, answered through an ack.
  async fetch_sockets() {
    const cs = await clients(3);
    obs.ids = cs.map((c) => c.s.id);
    obs.fetched = encode(await emitWithAck(cs[0], "fetch"));
    await upgraded(...cs.map((c) => c.mgr));
    await closeAll();
  },

  // srv.SocketsJoin / SocketsLeave, then emits to the room.
  async sockets_join_leave() {
    const cs = await clients(3);
    obs.result = encode(await emitWithAck(cs[0], "join_all", cs[1].s.id));
    for (const c of cs) await received(c, "done");
    await upgraded(...cs.map((c) => c.mgr));
    await closeAll();
  },

  // srv.DisconnectSockets(false) disconnects every client.
  async disconnect_sockets() {
    const cs = await clients(3);
    await upgraded(...cs.map((c) => c.mgr));
    // The server acts on every connection at once: make sure it has seen
    // each upgrade (an event sent after it) before.
    for (const c of cs) await emitWithAck(c, "sync");
    cs[0].s.emit("disconnect_all");
    await until("every client to be disconnected", () => cs.every((c) => c.rec.disconnects.length > 0));
    obs.active = cs.map((c) => c.s.active);
    await closeAll();
  },

  // srv.Timeout(2s).EmitWithAck to five clients, each answering its id.
  async broadcast_acks() {
    const cs = [];
    for (let i = 0; i < ROLL_CALL_CLIENTS; i++) {
      const c = socket(manager(`m${i}`), "/", `c${i}`);
      c.s.on("roll_call", (q, cb) => cb(c.s.id, q));
      cs.push(c);
    }
    await connected(...cs);
    obs.ids = cs.map((c) => c.s.id);
    obs.responses = encode(await emitWithAck(cs[0], "start_roll_call"));
    await upgraded(...cs.map((c) => c.mgr));
    await closeAll();
  },

  // A connection that joins no namespace is closed after ConnectTimeout.
  async connect_timeout() {
    const m = manager("idle", { reconnection: false });
    await until("the server to close the idle connection", () =>
      m.rec.engines.length > 0 && m.current().close !== null,
    );
  },
};

runScenario({
  result,
  args,
  scenarios,
  target: `url ${args.url}`,
  check() {
    if (!args.url) throw new Error("--url is required");
  },
});

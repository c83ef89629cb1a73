"use strict";
// Drives official socket.io-client sockets (pinned in ../package-lock.json)
// connected to DIFFERENT servers of one gosio cluster (NATS adapter), and
// prints what they saw as one JSON line on stdout. The Go tests in
// ../cluster_test.go start the NATS server and the Socket.IO servers,
// register the servers' handlers, run this script and assert on both sides.
//
//   node scripts/cluster_client.cjs \
//     --urls='["http://127.0.0.1:P0","http://127.0.0.1:P1","http://127.0.0.1:P2"]' \
//     --transports='["websocket"]' --scenario=broadcast \
//     [--path=/socket.io/] [--timeout=20000] [--linger=3000]
//
// Every flag has an environment fallback (GOSIO_URLS, GOSIO_TRANSPORTS, …;
// see harness.cjs). DEBUG='socket.io-client:*' prints the client's traces.
//
// Client ci (one Manager mi, one Engine.IO connection, each) connects to
// urls[i % urls.length] with auth {name: "ci"}: the clients are spread
// round-robin over the servers, and server k's first client is ck.
//
// Every scenario ends its traffic with a barrier: the first client of each
// server asks its server to broadcast "fin" (with the server's index) to the
// whole cluster, and every client waits for the fin of every server. Core
// NATS keeps the order of one publisher's messages, so whatever a server
// published before its fin has reached every client once the barrier is
// passed: a missing or duplicate delivery shows up in the counts checked
// after it.
//
// The managers and sockets are recorded as in socketio_client.cjs (by
// sioRecorder of harness.cjs), with the server index added to each
// manager's record. The result has the same layout, so that the Go side
// decodes it with the same types:
//   ok, error, scenario, transports, expectUpgrade, step, managers[]
//   ({name, server, engines, reconnects, errors}), sockets[] ({name, nsp,
//   manager, connections, disconnects, connectErrors, events, outgoing,
//   timeline}), obs, lingered, elapsedMs.
// Arguments are reported as JSON where binary values become
// {"$binary": {length, sha256, hex (up to 256 bytes)}}.
//
// A failed expectation throws: the script then exits with status 1 and the
// result's "error" says what was expected and what was seen.

const crypto = require("node:crypto");
const { Manager } = require("socket.io-client");
const { clientSetup, encode, binaryTypes, toBytes, sioRecorder, runScenario } = require("./harness.cjs");

const UNICODE = "héllo wörld 👋🌍 — ünïcødé ✓ 日本語"; // = unicodeText in Go
const BROADCAST_BINARY = 64 * 1024; // bytes of the broadcast's large Buffer (= clusterBinary in Go)
const CLIENTS = 6; // clients of most scenarios (= clusterClients in Go)

const { args, transports, expectUpgrade, result } = clientSetup(
  { urls: "", path: "/socket.io/" },
  "starting",
  { managers: [], sockets: [], obs: {} },
);
const obs = result.obs;
let urls = [];

// ---------------------------------------------------------------------------
// Managers (connections) and sockets, recorded by harness.cjs, with the
// server index of each.

const recorder = sioRecorder({ result, Manager, path: args.path, transports, expectUpgrade });
const { until, upgraded, emitWithAck, closeAll } = recorder;

/** expect throws a scenario failure unless cond holds. */
function expect(cond, what, detail) {
  if (!cond) {
    throw new Error(`expectation failed: ${what}${detail === undefined ? "" : ": " + canonical(detail)}`);
  }
}

/** expectEqual compares canonical JSON (object keys sorted). */
function expectEqual(got, want, what) {
  const g = canonical(got);
  const w = canonical(want);
  if (g !== w) throw new Error(`expectation failed: ${what}: got ${g}, want ${w}`);
}

/** canonical is JSON.stringify of encode(v) with object keys sorted. */
function canonical(v) {
  const sortKeys = (x) => {
    if (Array.isArray(x)) return x.map(sortKeys);
    if (x !== null && typeof x === "object") {
      const o = {};
      for (const k of Object.keys(x).sort()) o[k] = sortKeys(x[k]);
      return o;
    }
    return x;
  };
  return JSON.stringify(sortKeys(encode(v)));
}

/** clients opens n clients c0…, ci on server i % urls.length. */
async function clients(n, setup) {
  const cs = [];
  for (let i = 0; i < n; i++) {
    const server = i % urls.length;
    const c = recorder.socket(recorder.manager(`m${i}`, urls[server], { server }), "/", `c${i}`);
    if (setup) setup(c);
    cs.push(c);
  }
  await until(`${cs.map((c) => c.name).join(", ")} to connect`, () => cs.every((c) => c.s.connected));
  obs.ids = cs.map((c) => c.s.id);
  obs.servers = Object.fromEntries(cs.map((c) => [c.name, c.server]));
  return cs;
}

/**
 * barrier makes the first connected client of each server ask its server
 * to broadcast "fin" to the cluster, then waits until every client of cs
 * received the fin of every server (see the header).
 */
async function barrier(cs) {
  const servers = [...new Set(cs.map((c) => c.server))].sort();
  for (const k of servers) {
    const c = cs.find((x) => x.server === k);
    expectEqual(await emitWithAck(c, "fin"), k, `ack of fin from ${c.name} on server ${k}`);
  }
  await until(`every client to receive fin from servers ${servers.join(", ")}`, () =>
    cs.every((c) => servers.every((k) => c.args("fin").some((a) => a[0] === k))),
  );
  for (const c of cs) expectEqual(c.args("fin").map((a) => a[0]).sort(), servers, `${c.name}: fin events, once per server`);
}

// ---------------------------------------------------------------------------
// Scenarios. Each is an async function; its server part is in the Go test
// of the same name.

const scenarios = {
  // c0 emits "shout" with binary values at several depths; its server
  // broadcasts the values to the whole cluster.
  async broadcast() {
    const cs = await clients(CLIENTS);
    const payload = [
      {
        from: "c0",
        text: UNICODE,
        bin: crypto.randomBytes(BROADCAST_BINARY),
        nested: [Buffer.from([0, 1, 2, 0xff]), { deep: crypto.randomBytes(7) }],
      },
      crypto.randomBytes(3),
      Buffer.alloc(0),
    ];
    obs.sent = encode(payload);
    expectEqual(await emitWithAck(cs[0], "shout", ...payload), "ok", "ack of shout");
    await until("every client to receive shout", () => cs.every((c) => c.count("shout") > 0));
    await barrier(cs);
    const wantTypes = binaryTypes(payload);
    for (const c of cs) {
      expectEqual(c.count("shout"), 1, `${c.name} (server ${c.server}): shout events`);
      const got = c.raw.find((e) => e.event === "shout").args;
      expectEqual(got, payload, `${c.name} (server ${c.server}): shout arguments (binary by length and SHA-256)`);
      expectEqual(binaryTypes(got), wantTypes, `${c.name}: JS classes of the binary values`);
      expect(toBytes(got[0].bin).equals(payload[0].bin), `${c.name}: the ${BROADCAST_BINARY}-byte Buffer, byte for byte`);
    }
    await upgraded(...cs);
    await closeAll();
  },

  // Rooms across servers. Server 0 (c0, c3) has no member of a or b:
  //   c0 -, c1 a, c2 a b, c3 -, c4 b, c5 a
  // and c0 asks it for room broadcasts, each tagged with a label.
  async rooms() {
    const cs = await clients(CLIENTS);
    const rooms = [[], ["a"], ["a", "b"], [], ["b"], ["a"]];
    obs.joined = [];
    for (let i = 0; i < cs.length; i++) {
      const got = await emitWithAck(cs[i], "join", rooms[i]);
      expectEqual(got, [...rooms[i], cs[i].s.id].sort(), `${cs[i].name}: rooms after join`);
      obs.joined.push(got);
    }
    const casts = [
      { label: "to-a", to: ["a"], except: [] },
      { label: "to-b-except-a", to: ["b"], except: ["a"] },
      { label: "to-a-b", to: ["a", "b"], except: [] },
      { label: "except-a", to: [], except: ["a"] },
      { label: "to-c4", to: [cs[4].s.id], except: [] },
      { label: "all-except-c2-c5", to: [], except: [cs[2].s.id, cs[5].s.id] },
    ];
    for (const cast of casts) {
      expectEqual(await emitWithAck(cs[0], "room_emit", cast), "ok", `ack of room_emit ${cast.label}`);
    }
    await barrier(cs);
    const member = (i, room) => rooms[i].includes(room) || room === cs[i].s.id;
    obs.labels = {};
    for (let i = 0; i < cs.length; i++) {
      const want = casts
        .filter((x) => x.to.length === 0 || x.to.some((r) => member(i, r)))
        .filter((x) => !x.except.some((r) => member(i, r)))
        .map((x) => x.label);
      const got = cs[i].args("room_msg").map((a) => a[0]);
      obs.labels[cs[i].name] = got;
      expectEqual(got, want, `${cs[i].name} (server ${cs[i].server}, rooms ${rooms[i]}): room_msg labels, in order`);
    }
    await upgraded(...cs);
    await closeAll();
  },

  // Server 0 broadcasts "roll_call" with acks; every client answers with
  // its id, wherever it is connected.
  async acks() {
    const cs = await clients(CLIENTS, (c) => c.s.on("roll_call", (q, cb) => cb(c.s.id, q)));
    const responses = await emitWithAck(cs[0], "start_roll_call");
    obs.responses = responses;
    expectEqual(responses, obs.ids.map((id) => `${id} who?`).sort(), "answers collected by server 0");
    await barrier(cs);
    for (const c of cs) {
      expectEqual(c.args("roll_call"), [["who?", { $function: true }]], `${c.name} (server ${c.server}): roll_call events`);
    }
    await upgraded(...cs);
    await closeAll();
  },

  // Each client joins team-(i%2); the servers store {name, server} as the
  // socket's data. c0, c1 and c2 ask their own server for fetchSockets,
  // and c1 for those in team-0.
  async fetch() {
    const cs = await clients(CLIENTS);
    for (let i = 0; i < cs.length; i++) {
      const rooms = await emitWithAck(cs[i], "join", [`team-${i % 2}`]);
      expectEqual(rooms, [`team-${i % 2}`, cs[i].s.id].sort(), `${cs[i].name}: rooms after join`);
    }
    const want = (filter) =>
      cs
        .map((c, i) => ({
          id: c.s.id,
          rooms: [`team-${i % 2}`, c.s.id].sort(),
          data: { name: c.name, server: c.server },
          auth: { name: c.name },
        }))
        .filter((_, i) => filter(i));
    obs.fetched = [];
    for (let k = 0; k < urls.length; k++) {
      const got = await emitWithAck(cs[k], "fetch", "");
      obs.fetched.push(got);
      expectEqual(got, want(() => true), `fetchSockets on server ${k} (asked by ${cs[k].name}): id, rooms, data and auth of every client`);
    }
    const team0 = await emitWithAck(cs[1], "fetch", "team-0");
    obs.fetchedTeam0 = team0;
    expectEqual(team0, want((i) => i % 2 === 0), "In(team-0).FetchSockets on server 1");
    await barrier(cs);
    await upgraded(...cs);
    await closeAll();
  },

  // c0 asks server 0 to disconnect c1, which is connected to server 1:
  // FetchSockets + RemoteSocket.Disconnect(true).
  async remote_disconnect() {
    const cs = await clients(3);
    await upgraded(...cs);
    // The server acts on the target's connection: make sure it has seen
    // the upgrade (an event sent after it) first.
    for (const c of cs) await emitWithAck(c, "sync");
    const [target, bystander] = [cs[1], cs[2]];
    expect(target.server !== cs[0].server, "target on another server than the asking client", [target.server, cs[0].server]);
    const kick = await emitWithAck(cs[0], "kick", target.s.id);
    obs.kick = kick;
    expectEqual(kick, { found: 1, server: 0 }, "ack of kick: sockets found by server 0");
    await until(`${target.name} to be disconnected`, () => target.rec.disconnects.length > 0);
    expectEqual(target.rec.disconnects.map((d) => d.reason), ["io server disconnect"], `${target.name}: disconnect reasons`);
    await until(`${target.name}'s connection to close`, () => target.mgr.current().close !== null);
    obs.targetActive = target.s.active;
    expect(!target.s.active, `${target.name}: socket.active after the server disconnected it (no reconnection)`);
    await barrier([cs[0], bystander]);
    for (const c of [cs[0], bystander]) {
      expect(c.s.connected && c.rec.disconnects.length === 0, `${c.name}: still connected`, c.rec.disconnects);
    }
    await closeAll();
  },

  // c0 asks server 0 to ServerSideEmitWithAck("ping"); servers 1 and 2 emit
  // "pinged" to their own clients (Local) and answer with their index.
  async server_side_emit() {
    const cs = await clients(CLIENTS);
    const answers = await emitWithAck(cs[0], "ping_servers");
    obs.answers = answers;
    expectEqual(answers, [1, 2], "answers to server 0's ServerSideEmitWithAck");
    const remote = cs.filter((c) => c.server !== cs[0].server);
    await until("the clients of servers 1 and 2 to receive pinged", () => remote.every((c) => c.count("pinged") > 0));
    await barrier(cs);
    for (const c of cs) {
      const want = c.server === 0 ? [] : [[0, c.server]];
      expectEqual(c.args("pinged"), want, `${c.name} (server ${c.server}): pinged events [origin, emitting server]`);
      expectEqual(c.count("ping"), 0, `${c.name}: server-to-server "ping" events reaching a client`);
    }
    await upgraded(...cs);
    await closeAll();
  },
};

runScenario({
  result,
  args,
  scenarios,
  target: `urls ${args.urls}`,
  check() {
    urls = JSON.parse(args.urls || "[]");
    if (!Array.isArray(urls) || urls.length < 3) throw new Error("--urls must be a JSON array of at least 3 server URLs");
  },
});

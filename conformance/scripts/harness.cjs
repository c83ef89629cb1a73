"use strict";
// Shared plumbing for the conformance scripts: argument parsing, a hard
// self-timeout, diagnostics on stderr and exactly one JSON result line on
// stdout.
//
// Contract with the Go tests (conformance/*_test.go):
//   - parameters come from --name=value (or "--name value") arguments, each
//     with an environment fallback GOSIO_<NAME> (upper case, "-" → "_");
//   - the last line on stdout is one JSON object, the result;
//   - exit status 0 means the scenario ran to completion, 1 that it failed,
//     2 that it hit the self-timeout; the result says why in "error";
//   - diagnostics, timestamped from process start, go to stderr.
//
// For the scripts that drive socket.io-client (socketio_client.cjs,
// cluster_client.cjs) it also holds the recording of Managers and sockets
// (sioRecorder) and the encoding of event arguments as JSON (encode).

const crypto = require("node:crypto");
const { EventEmitter } = require("node:events");

const started = Date.now();

/** log writes one diagnostic line to stderr. */
function log(...args) {
  const ms = String(Date.now() - started).padStart(5, " ");
  const text = args
    .map((a) => (typeof a === "string" ? a : safeJSON(a)))
    .join(" ");
  process.stderr.write(`[${ms}ms] ${text}\n`);
}

function safeJSON(v) {
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

/**
 * parseArgsOrExit is parseArgs for a script's entry point: on a usage error
 * it reports it (stderr, and the one JSON result line the Go side reads)
 * and exits with status 1.
 */
function parseArgsOrExit(defaults) {
  try {
    return parseArgs(defaults);
  } catch (err) {
    process.stderr.write(`usage error: ${err.message}\n`);
    process.stdout.write(JSON.stringify({ ok: false, error: `usage: ${err.message}` }) + "\n");
    process.exit(1);
  }
}

/**
 * parseArgs reads --name=value / --name value pairs from process.argv, then
 * fills the missing names in defaults from GOSIO_<NAME> environment variables.
 */
function parseArgs(defaults) {
  const args = { ...defaults };
  const given = new Set();
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/s.exec(argv[i]);
    if (!m) throw new Error(`unexpected argument ${JSON.stringify(argv[i])}`);
    const [, name, inline] = m;
    if (!(name in defaults)) throw new Error(`unknown flag --${name}`);
    given.add(name);
    if (inline !== undefined) {
      args[name] = inline;
    } else if (i + 1 < argv.length) {
      args[name] = argv[++i];
    } else {
      throw new Error(`flag --${name} needs a value`);
    }
  }
  for (const name of Object.keys(defaults)) {
    const env = "GOSIO_" + name.toUpperCase().replace(/-/g, "_");
    if (!given.has(name) && process.env[env] !== undefined) {
      args[name] = process.env[env];
    }
  }
  return args;
}

const SMALL = 256; // messages up to this many bytes are reported in full

/**
 * describe turns a message payload into a JSON-friendly record:
 * { type: "text"|"binary"|"other", length, sha256, data?|hex?, jsType }.
 * length and sha256 are computed over the UTF-8 bytes of a text message.
 */
function describe(data) {
  if (typeof data === "string") {
    const bytes = Buffer.from(data, "utf8");
    const r = { type: "text", length: bytes.length, sha256: sha256(bytes) };
    if (bytes.length <= SMALL) r.data = data;
    return r;
  }
  let bytes = null;
  if (Buffer.isBuffer(data)) bytes = data;
  else if (data instanceof ArrayBuffer) bytes = Buffer.from(data);
  else if (ArrayBuffer.isView(data))
    bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const jsType = Object.prototype.toString.call(data).slice(8, -1);
  if (bytes === null) return { type: "other", jsType };
  const r = {
    type: "binary",
    jsType: Buffer.isBuffer(data) ? "Buffer" : jsType,
    length: bytes.length,
    sha256: sha256(bytes),
  };
  if (bytes.length <= SMALL) r.hex = bytes.toString("hex");
  return r;
}

function sha256(bytes) {
  return crypto.createHash("sha256").update(bytes).digest("hex");
}

/**
 * clientSetup reads the arguments of a client script: --transports (a JSON
 * array, default polling then websocket), --scenario, --timeout and
 * --linger (ms), and those of defaults (as for parseArgsOrExit). It starts
 * the script's result:
 *   { ok: false, scenario, transports, expectUpgrade, step, ...fields, lingered: false }.
 * expectUpgrade says whether every connection must upgrade: it starts on
 * polling and may use websocket.
 */
function clientSetup(defaults, step, fields = {}) {
  const args = parseArgsOrExit({
    transports: '["polling","websocket"]',
    scenario: "",
    timeout: "20000",
    linger: "3000",
    ...defaults,
  });
  const transports = JSON.parse(args.transports);
  const expectUpgrade = transports[0] === "polling" && transports.includes("websocket");
  const result = { ok: false, scenario: args.scenario, transports, expectUpgrade, step, ...fields, lingered: false };
  return { args, transports, expectUpgrade, result };
}

/** message is the message of an error, or the value as a string. */
function message(err) {
  return String(err && err.message ? err.message : err);
}

/**
 * describeClose reduces a client's close description (an Error, an object
 * {description, context} or nothing) to a string.
 */
function describeClose(d) {
  if (d === undefined || d === null) return "";
  if (d instanceof Error) return d.message;
  if (typeof d === "object" && "description" in d) return String(d.description);
  return String(d);
}

/** toBytes returns the bytes of a binary value (Buffer, ArrayBuffer, view), else null. */
function toBytes(v) {
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof ArrayBuffer) return Buffer.from(v);
  if (ArrayBuffer.isView(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return null;
}

/**
 * encode turns event arguments into JSON: binary values become
 * {"$binary": {length, sha256, hex (up to 256 bytes)}}, functions (ack
 * callbacks) {"$function": true} and undefined {"$undefined": true}.
 */
function encode(v) {
  if (v === undefined) return { $undefined: true };
  if (typeof v === "function") return { $function: true };
  const bytes = toBytes(v);
  if (bytes !== null) {
    const r = { length: bytes.length, sha256: sha256(bytes) };
    if (bytes.length <= SMALL) r.hex = bytes.toString("hex");
    return { $binary: r };
  }
  if (Array.isArray(v)) return v.map(encode);
  if (v !== null && typeof v === "object") {
    const o = {};
    for (const [k, x] of Object.entries(v)) o[k] = encode(x);
    return o;
  }
  return v;
}

/** binaryTypes lists the JS classes of the binary values in v, depth first. */
function binaryTypes(v, out = []) {
  if (toBytes(v) !== null) {
    out.push(Buffer.isBuffer(v) ? "Buffer" : Object.prototype.toString.call(v).slice(8, -1));
  } else if (Array.isArray(v)) {
    v.forEach((x) => binaryTypes(x, out));
  } else if (v !== null && typeof v === "object") {
    Object.values(v).forEach((x) => binaryTypes(x, out));
  }
  return out;
}

/**
 * sioRecorder records what socket.io-client Managers and sockets see, into
 * result.managers and result.sockets:
 *   managers[]  {name, server?, engines: [{id, openTransport, upgrades,
 *               upgradeErrors, finalTransport, close: {reason,
 *               description}}], reconnects, errors ("error" events)}
 *   sockets[]   {name, nsp, manager, connections: [{id, engineId}],
 *               disconnects: [{reason, description}], connectErrors:
 *               [{message, data}], events: [{event, args}] (onAny),
 *               outgoing: [{event, args}] (onAnyOutgoing), timeline:
 *               ["connect", "event: <name>", "disconnect: <reason>", …]}
 * with arguments encoded by encode. Every recorded change wakes the
 * until() waiters. Manager is socket.io-client's class (passed in, so that
 * this file needs no client library); path and transports are the
 * Managers' options, expectUpgrade whether upgraded() must wait.
 */
function sioRecorder({ result, Manager, path, transports, expectUpgrade }) {
  const changes = new EventEmitter();
  changes.setMaxListeners(0);
  const changed = () => changes.emit("change");
  const allSockets = [];

  /** step records and logs what the scenario does now. */
  function step(s) {
    result.step = s;
    log("step:", s);
  }

  /** until resolves once cond() holds; what names the step for diagnostics. */
  function until(what, cond) {
    step(`waiting for ${what}`);
    return new Promise((resolve, reject) => {
      const check = () => {
        let ok;
        try {
          ok = cond();
        } catch (err) {
          changes.off("change", check);
          reject(err);
          return;
        }
        if (ok) {
          changes.off("change", check);
          resolve();
        }
      };
      changes.on("change", check);
      check();
    });
  }

  /**
   * manager opens one Engine.IO connection (a Manager) to url, with the
   * Manager options opts. server, if given, is the index of the server of
   * a cluster that url names: it is kept in the record and the result.
   */
  function manager(name, url, { server, opts = {} } = {}) {
    const rec = { name, ...(server === undefined ? {} : { server }), engines: [], reconnects: [], errors: [] };
    result.managers.push(rec);
    const where = server === undefined ? "" : ` on server ${server}`;
    const m = new Manager(url, {
      path,
      transports,
      upgrade: transports.length > 1,
      ...opts,
    });
    const mgr = { name, server, m, rec, current: () => rec.engines[rec.engines.length - 1] };

    m.on("open", () => {
      const eng = m.engine;
      const e = {
        id: eng.id,
        openTransport: eng.transport.name,
        upgrades: [],
        upgradeErrors: [],
        upgraded: false,
        finalTransport: null,
        close: null,
      };
      rec.engines.push(e);
      log(`${name}: open ${eng.id}${where} over ${eng.transport.name}`);
      eng.on("upgrade", (t) => {
        e.upgrades.push(t.name);
        log(`${name}: upgrade to ${t.name}`);
        // The client emits "upgrade" before it has finished switching: act
        // on the next turn of the event loop (see engineio_client.cjs).
        setImmediate(() => {
          e.upgraded = true;
          changed();
        });
      });
      eng.on("upgradeError", (err) => {
        e.upgradeErrors.push(message(err));
        log(`${name}: upgradeError:`, message(err));
        changed();
      });
      eng.on("close", (reason, desc) => {
        e.finalTransport = eng.transport ? eng.transport.name : null;
        e.close = { reason: String(reason), description: describeClose(desc) };
        log(`${name}: close ${e.id}:`, e.close);
        changed();
      });
      changed();
    });
    m.on("error", (err) => {
      rec.errors.push(message(err));
      log(`${name}: error:`, message(err));
      changed();
    });
    m.on("reconnect", (attempt) => {
      rec.reconnects.push(attempt);
      log(`${name}: reconnected after ${attempt} attempt(s)`);
      changed();
    });
    return mgr;
  }

  /**
   * socket opens namespace nsp on mgr, with auth {name, ...opts.auth}.
   * The returned client keeps the JS values of the events it received in
   * raw ([{event, args}]), for byte comparisons; count(event) and
   * args(event) read its record.
   */
  function socket(mgr, nsp, name, opts = {}) {
    const auth = { name, ...(opts.auth || {}) };
    const s = mgr.m.socket(nsp, { ...opts, auth });
    const rec = {
      name,
      nsp,
      manager: mgr.name,
      connections: [],
      disconnects: [],
      connectErrors: [],
      events: [],
      outgoing: [],
      timeline: [],
    };
    result.sockets.push(rec);
    const where = mgr.server === undefined ? "" : ` on server ${mgr.server}`;
    const c = {
      name,
      server: mgr.server,
      s,
      rec,
      mgr,
      raw: [],
      count: (event) => rec.events.filter((e) => e.event === event).length,
      args: (event) => rec.events.filter((e) => e.event === event).map((e) => e.args),
    };
    s.on("connect", () => {
      rec.connections.push({ id: s.id, engineId: mgr.m.engine.id });
      rec.timeline.push("connect");
      log(`${name}: connected to ${nsp}${where} as ${s.id}`);
      changed();
    });
    s.on("disconnect", (reason, desc) => {
      rec.disconnects.push({ reason: String(reason), description: describeClose(desc) });
      rec.timeline.push(`disconnect: ${reason}`);
      log(`${name}: disconnect:`, reason);
      changed();
    });
    s.on("connect_error", (err) => {
      rec.connectErrors.push({ message: message(err), data: err && err.data !== undefined ? err.data : null });
      log(`${name}: connect_error:`, message(err));
      changed();
    });
    s.onAny((event, ...a) => {
      c.raw.push({ event, args: a });
      rec.events.push({ event, args: encode(a) });
      rec.timeline.push(`event: ${event}`);
      changed();
    });
    s.onAnyOutgoing((event, ...a) => {
      rec.outgoing.push({ event, args: encode(a) });
    });
    allSockets.push(c);
    return c;
  }

  /**
   * upgraded waits until the current connection of each manager upgraded
   * (given a socket client, its manager's).
   */
  function upgraded(...xs) {
    if (!expectUpgrade) return Promise.resolve();
    const mgrs = xs.map((x) => x.mgr || x);
    return until(`${mgrs.map((m) => m.name).join(", ")} to upgrade`, () =>
      mgrs.every((m) => m.current() && m.current().upgraded),
    );
  }

  /** emitWithAck is socket.emitWithAck, logged. */
  function emitWithAck(c, event, ...a) {
    step(`${c.name}${c.server === undefined ? "" : ` (server ${c.server})`}: emitWithAck ${event}`);
    return c.s.emitWithAck(event, ...a);
  }

  /** allClosed says whether every connection of every manager closed. */
  const allClosed = () => result.managers.every((m) => m.engines.every((e) => e.close !== null));

  /** closeAll disconnects every socket and waits until every connection closed. */
  async function closeAll() {
    step("disconnecting every socket");
    for (const c of allSockets) c.s.disconnect();
    await until("every connection to close", allClosed);
  }

  return { changed, step, until, manager, socket, upgraded, emitWithAck, allClosed, closeAll };
}

/**
 * run starts a scenario under a hard timeout. body(finish) does the work and
 * calls finish(error?) once; result is the object printed as JSON.
 *
 * After finish the script does not exit at once: it lets the event loop
 * drain so that a client's last packets (a close packet on a POST, a
 * WebSocket close frame) reach the server. If open handles keep the process
 * alive longer than lingerMs, it exits anyway and says so in
 * result.lingered: a server that leaves a request or a connection hanging
 * shows up there.
 */
function run({ result, timeoutMs, lingerMs = 3000, body }) {
  let printed = false;
  let finished = false;
  const print = () => {
    if (printed) return;
    printed = true;
    result.elapsedMs = Date.now() - started;
    process.stdout.write(JSON.stringify(result) + "\n");
  };

  const finish = (err) => {
    if (finished) return;
    finished = true;
    if (err) {
      result.ok = false;
      result.error = err instanceof Error ? err.message : String(err);
      log("FAILED:", result.error);
    } else {
      result.ok = true;
      log("scenario complete");
    }
    process.exitCode = result.ok ? 0 : 1;
    setTimeout(() => {
      result.lingered = true;
      log(`still alive ${lingerMs}ms after the scenario ended; open handles:`,
        process.getActiveResourcesInfo());
      print();
      process.exit(process.exitCode);
    }, lingerMs).unref();
  };

  // Unref'd: fires only if something else keeps the process alive.
  setTimeout(() => {
    if (finished) return;
    finished = true;
    result.ok = false;
    result.error = `timeout: scenario did not finish within ${timeoutMs}ms (last step: ${result.step || "none"})`;
    log(result.error);
    print();
    process.exit(2);
  }, timeoutMs).unref();

  process.on("beforeExit", () => {
    if (!finished) {
      finished = true;
      result.ok = false;
      result.error = `event loop drained before the scenario finished (last step: ${result.step || "none"})`;
      log(result.error);
      process.exitCode = 1;
    }
    print();
  });

  process.on("uncaughtException", (err) => {
    log("uncaught exception:", err && err.stack ? err.stack : String(err));
    if (!finished) finish(err);
    print();
    process.exit(1);
  });

  try {
    body(finish);
  } catch (err) {
    finish(err);
  }
}

/**
 * runScenario runs scenarios[args.scenario], an async function, with run:
 * under args.timeout, lingering up to args.linger (ms). check, if given,
 * validates the arguments first (it throws); target names the server(s)
 * in the log.
 */
function runScenario({ result, args, scenarios, target, check }) {
  run({
    result,
    timeoutMs: Number(args.timeout),
    lingerMs: Number(args.linger),
    body(finish) {
      if (check) check();
      const scenario = scenarios[args.scenario];
      if (!scenario) {
        throw new Error(
          `unknown scenario ${JSON.stringify(args.scenario)}; known: ${Object.keys(scenarios).join(", ")}`,
        );
      }
      log(`scenario ${args.scenario}, transports ${args.transports}, ${target}`);
      scenario().then(
        () => finish(),
        (err) => finish(err),
      );
    },
  });
}

module.exports = {
  log,
  parseArgs,
  parseArgsOrExit,
  clientSetup,
  describe,
  sha256,
  message,
  describeClose,
  toBytes,
  encode,
  binaryTypes,
  sioRecorder,
  run,
  runScenario,
};
